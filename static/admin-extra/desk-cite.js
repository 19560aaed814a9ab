// Citing while writing (reports/admin/desk_cite.py): Cite buttons beside each cited text
// open the source finder; picking a source inserts its marker at the cursor and adds the
// reference row. The server decides every number (which marker, renumbering) and where a
// reference is still cited; this script only asks it and applies the answer to the form.
"use strict";

(() => {
  const dialog = document.getElementById("desk-cite-dialog");
  const form = document.getElementById("report_form");
  if (!dialog || !form || typeof dialog.showModal !== "function") return;

  const SHORTCUT = "Alt+Shift+C";
  const status = document.getElementById("desk-cite-status");
  const where = document.getElementById("desk-cite-where");
  const errorNote = document.getElementById("desk-cite-error");
  const search = document.getElementById("desk-cite-q");
  const group = document.getElementById("references-group");
  // What the finder was opened for: a text to insert a marker into, or a row to link.
  let target = null;

  const csrfToken = () => form.querySelector("[name=csrfmiddlewaretoken]").value;

  async function ask(url, body) {
    const response = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(body),
      credentials: "same-origin",
    });
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(answer.error || "The server could not answer: try again.");
    return answer;
  }

  // The cited texts, in the order of the form: summary, section bodies, conclusion.
  function citedTexts() {
    return Array.from(form.querySelectorAll("textarea")).filter(isCited);
  }

  function isCited(field) {
    const name = field.name || "";
    if (name.includes("__prefix__")) return false;
    return name === "summary" || name === "conclusion" || /^sections-\d+-body$/.test(name);
  }

  function textLabel(field) {
    if (field.name === "summary") return "the executive summary";
    if (field.name === "conclusion") return "the conclusion";
    const sections = citedTexts().filter((f) => f.name.startsWith("sections-"));
    return `section ${sections.indexOf(field) + 1}`;
  }

  // The References inline's rows as they stand in the form, saved or not.
  function referenceRows() {
    if (!group) return [];
    return Array.from(group.querySelectorAll("tr.form-row")).filter(
      (row) => !row.classList.contains("empty-form") && row.querySelector("[name$='-number']"),
    );
  }

  const field = (row, suffix) => row.querySelector(`[name$='-${suffix}']`);
  const isRemoved = (row) => field(row, "DELETE")?.checked;

  function currentReferences() {
    return referenceRows()
      .filter((row) => !isRemoved(row))
      .map((row) => [parseInt(field(row, "number").value, 10), field(row, "source").value])
      .filter(([number]) => Number.isInteger(number) && number > 0)
      .map(([number, source]) => [number, source ? parseInt(source, 10) : null]);
  }

  // Buttons -----------------------------------------------------------------------------

  function addCiteButton(text) {
    if (text.dataset.deskCite) return;
    text.dataset.deskCite = "1";
    text.setAttribute("aria-keyshortcuts", SHORTCUT);
    const button = document.createElement("button");
    button.type = "button";
    button.className = "button desk-cite-open";
    button.textContent = "Cite";
    button.title = `Cite a source at the cursor (${SHORTCUT})`;
    button.setAttribute("aria-keyshortcuts", SHORTCUT);
    button.setAttribute("aria-label", `Cite a source in ${textLabel(text)}`);
    button.addEventListener("click", () => openFor({ text }));
    text.insertAdjacentElement("afterend", button);
  }

  function addLinkButton(row) {
    const details = row.querySelector("td.field-source_details");
    if (!details || field(row, "source").value || details.querySelector(".desk-cite-link")) return;
    const button = document.createElement("button");
    button.type = "button";
    button.className = "button desk-cite-link";
    button.textContent = "Link a source";
    const number = field(row, "number").value;
    button.setAttribute("aria-label", `Link a source to reference [${number}]`);
    button.addEventListener("click", () => openFor({ row }));
    details.append(" ", button);
  }

  function addRenumberButton() {
    if (!group || group.querySelector(".desk-cite-renumber")) return;
    const button = document.createElement("button");
    button.type = "button";
    button.className = "button desk-cite-renumber";
    button.textContent = "Renumber in order of first citation";
    button.addEventListener("click", renumber);
    const heading = group.querySelector("h2");
    (heading || group.firstElementChild).insertAdjacentElement("afterend", button);
  }

  function enhance() {
    citedTexts().forEach(addCiteButton);
    referenceRows().forEach(addLinkButton);
    addRenumberButton();
  }

  // The finder ---------------------------------------------------------------------------

  function openFor(what) {
    target = what;
    if (what.text) {
      target.start = what.text.selectionStart;
      target.end = what.text.selectionEnd;
      where.textContent = `The marker goes at the cursor in ${textLabel(what.text)}.`;
    } else {
      where.textContent = `Linking reference [${field(what.row, "number").value}] to a source.`;
    }
    errorNote.hidden = true;
    dialog.showModal();
    search.focus();
    search.select();
  }

  dialog.addEventListener("close", () => {
    const back = target && (target.text || target.row?.querySelector(".desk-cite-link"));
    if (back) back.focus();
    if (target?.text && target.caret !== undefined) {
      target.text.setSelectionRange(target.caret, target.caret);
    }
    target = null;
  });

  dialog.addEventListener("click", (event) => {
    const pick = event.target.closest(".desk-cite-pick");
    if (pick) choose(parseInt(pick.dataset.source, 10));
  });

  // A source just added from a pasted link is cited at once: the editor confirmed it.
  document.body.addEventListener("htmx:afterSwap", () => {
    const added = dialog.open && dialog.querySelector(".desk-cite-pick[data-autopick]");
    if (!added) return;
    delete added.dataset.autopick;
    choose(parseInt(added.dataset.source, 10));
  });

  // Escape closes the finder at once, even from the search box (which would clear first).
  dialog.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    event.preventDefault();
    dialog.close();
  });

  async function choose(sourceId) {
    if (!target) return;
    try {
      const answer = await ask(dialog.dataset.numberUrl, {
        source: sourceId,
        references: currentReferences(),
      });
      if (target.row) {
        setSource(target.row, answer.source);
        announce(`Reference [${field(target.row, "number").value}] now cites “${answer.source.title}”.`);
      } else {
        insertMarker(target, answer.number);
        if (!answer.existing) addReference(answer.number, answer.source);
        announce(
          answer.existing
            ? `Inserted [${answer.number}]: this report already cites “${answer.source.title}”.`
            : `Inserted [${answer.number}] and added reference [${answer.number}].`,
        );
      }
      dialog.close();
    } catch (error) {
      errorNote.textContent = error.message;
      errorNote.hidden = false;
    }
  }

  function insertMarker(place, number) {
    const text = place.text;
    const marker = `[${number}]`;
    text.setRangeText(marker, place.start, place.end, "end");
    place.caret = place.start + marker.length;
    text.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function addReference(number, source) {
    group.querySelector(".add-row a").click(); // the admin's own "Add another Reference"
    const rows = referenceRows();
    const row = rows[rows.length - 1];
    field(row, "number").value = String(number);
    setSource(row, source);
  }

  function setSource(row, source) {
    const select = field(row, "source");
    let option = Array.from(select.options).find((o) => o.value === String(source.id));
    if (!option) {
      option = new Option(source.title, String(source.id), true, true);
      select.append(option);
    }
    select.value = String(source.id);
    // The autocomplete (select2) shows the chosen title on "change".
    select.dispatchEvent(new Event("change", { bubbles: true }));
    const details = row.querySelector("td.field-source_details");
    if (details) showDetails(details, source);
  }

  function showDetails(cell, source) {
    cell.replaceChildren();
    const holder = document.createElement("p");
    const link = document.createElement("a");
    link.href = source.admin_url;
    link.className = "desk-cite-source";
    link.textContent = source.title;
    holder.append(link);
    const meta = [source.publisher, source.published_on].filter(Boolean).join(" · ");
    if (meta) holder.append(` · ${meta}`);
    cell.append(holder);
  }

  function announce(message) {
    status.textContent = message;
  }

  // Renumbering and removing --------------------------------------------------------------

  function postedTexts() {
    return citedTexts().map((text) => [text.name, text.value]);
  }

  async function renumber() {
    const rows = referenceRows().filter((row) => field(row, "number").value !== "");
    try {
      const answer = await ask(dialog.dataset.renumberUrl, {
        texts: postedTexts(),
        numbers: rows.map((row) => parseInt(field(row, "number").value, 10) || 0),
      });
      for (const text of citedTexts()) {
        if (text.name in answer.texts && text.value !== answer.texts[text.name]) {
          text.value = answer.texts[text.name];
          text.dispatchEvent(new Event("input", { bubbles: true }));
        }
      }
      rows.forEach((row, index) => {
        field(row, "number").value = String(answer.numbers[index]);
      });
      announce("Renumbered the references in order of first citation.");
    } catch (error) {
      announce(error.message);
    }
  }

  form.addEventListener("change", async (event) => {
    const box = event.target;
    if (!box.name || !/^references-\d+-DELETE$/.test(box.name)) return;
    const row = box.closest("tr.form-row");
    row.querySelector(".desk-cite-still-cited")?.remove();
    const number = parseInt(field(row, "number").value, 10);
    if (!box.checked || !Number.isInteger(number)) return;
    try {
      const answer = await ask(dialog.dataset.stillCitedUrl, { texts: postedTexts(), number });
      if (!answer.places.length) return;
      const note = document.createElement("p");
      note.className = "desk-cite-still-cited errornote";
      note.setAttribute("role", "status");
      note.textContent = `Still cited in: ${answer.places.join(", ")}`;
      box.closest("td").append(note);
    } catch (error) {
      announce(error.message);
    }
  });

  // The shortcut, from any cited text, and texts added on the page -------------------------

  form.addEventListener("keydown", (event) => {
    if (!(event.altKey && event.shiftKey && !event.ctrlKey && event.code === "KeyC")) return;
    if (!isCited(event.target)) return;
    event.preventDefault();
    openFor({ text: event.target });
  });

  document.addEventListener("formset:added", () => enhance());
  enhance();
})();
