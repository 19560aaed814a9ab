// Feedback while typing in the report editor (reports/admin/desk_live.py).
// The server decides everything: this only says when the form changed (htmx posts it,
// debounced, from #desk-live), keeps a status block under each cited textarea for the
// answer's out-of-band swaps, and shows or hides the preview.

const trigger = document.getElementById("desk-live");
const form = trigger?.closest("form");

// The cited texts: summary, each section body (not the inline's empty template), conclusion.
function citedTextareas() {
  return [...form.querySelectorAll("textarea")].filter(
    (area) =>
      area.id === "id_summary" ||
      area.id === "id_conclusion" ||
      /^id_sections-\d+-body$/.test(area.id),
  );
}

// Every cited textarea gets a block the server's answer fills, announced with the field.
function ensureStatusBlocks() {
  for (const area of citedTextareas()) {
    const id = `paragraphs-${area.id}`;
    let block = document.getElementById(id);
    if (block && block.previousElementSibling !== area) {
      block.remove(); // a row renumbered after another was removed
      block = null;
    }
    if (!block) {
      block = document.createElement("div");
      block.id = id;
      block.className = "paragraph-status";
      area.after(block);
    }
    const described = (area.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
    if (!described.includes(id)) {
      area.setAttribute("aria-describedby", [...described, id].join(" "));
    }
  }
}

function changed(now = false) {
  ensureStatusBlocks();
  trigger.dispatchEvent(new CustomEvent(now ? "desk-live:now" : "desk-live:changed"));
}

function setUpPreview() {
  const toggle = document.getElementById("live-preview-toggle");
  const panel = document.getElementById("live-preview");
  const wanted = document.getElementById("live-preview-wanted");
  if (!toggle || !panel || !wanted) return;
  toggle.hidden = false;
  toggle.addEventListener("click", () => {
    const show = panel.hidden;
    panel.hidden = !show;
    wanted.disabled = !show;
    toggle.setAttribute("aria-expanded", String(show));
    toggle.textContent = show ? "Hide preview" : "Show preview";
    document.body.classList.toggle("live-preview-open", show);
    if (show) changed(true);
  });
}

if (trigger && form) {
  ensureStatusBlocks();
  // Native events, plus what the admin's widgets announce their own way: the source
  // autocomplete (select2, through jQuery) and inline rows added or removed.
  form.addEventListener("input", () => changed());
  form.addEventListener("change", () => changed());
  document.addEventListener("formset:added", () => changed());
  document.addEventListener("formset:removed", () => changed());
  globalThis.django?.jQuery?.(form).on("change", "select", () => changed());
  // The request itself must not count as a change: htmx swaps only outside the fields.
  setUpPreview();
}
