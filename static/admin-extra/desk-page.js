// The report editor as a page (reports/admin/desk_page.py): sections and follow-up questions
// are ordered by drag or by move up/down buttons instead of typed positions, and leaving the
// page with unsaved changes asks first. Without JavaScript the position fields stay visible.
"use strict";

(function () {
  const form = document.getElementById("report_form");
  if (!form) {
    return;
  }

  // The inlines ordered by row, and what one row is called in the buttons' labels.
  const ORDERED = [
    { prefix: "sections", rows: ".inline-related:not(.empty-form)", label: "section" },
    { prefix: "questions", rows: "tbody tr.form-row:not(.empty-form)", label: "question" },
  ];

  let dirty = false;
  const announcer = document.createElement("p");
  announcer.className = "visually-hidden";
  announcer.setAttribute("aria-live", "polite");
  form.append(announcer);

  function rowsOf(group, spec) {
    return Array.from(group.querySelectorAll(spec.rows));
  }

  function positionInput(row) {
    return row.querySelector("input[name$='-position']");
  }

  // A new row nobody typed in must stay unchanged, or the formset would validate it.
  function isBlankNewRow(row) {
    const id = row.querySelector("input[name$='-id']");
    if (id && id.value) {
      return false;
    }
    return !Array.from(row.querySelectorAll("input[type=text], textarea, select")).some(
      (field) => !field.name.endsWith("-position") && field.value.trim() !== "",
    );
  }

  // Positions follow the rows' order; kept as they are until the editor reorders or adds.
  function writePositions(group, spec) {
    if (group.dataset.deskReordered !== "true") {
      return;
    }
    let position = 0;
    for (const row of rowsOf(group, spec)) {
      const input = positionInput(row);
      if (!input || isBlankNewRow(row)) {
        continue;
      }
      position += 1;
      input.value = String(position);
    }
  }

  function reordered(group) {
    group.dataset.deskReordered = "true";
    dirty = true;
  }

  function move(group, spec, row, step) {
    const rows = rowsOf(group, spec);
    const index = rows.indexOf(row);
    const target = rows[index + step];
    if (!target) {
      return;
    }
    if (step < 0) {
      target.before(row);
    } else {
      target.after(row);
    }
    reordered(group);
    relabel(group, spec);
    announcer.textContent = `Moved to position ${rows.indexOf(target) + 1} of ${rows.length}.`;
  }

  function relabel(group, spec) {
    const rows = rowsOf(group, spec);
    rows.forEach((row, index) => {
      const name = `${spec.label} ${index + 1}`;
      const up = row.querySelector(".desk-move-up");
      const down = row.querySelector(".desk-move-down");
      if (up) {
        up.setAttribute("aria-label", `Move ${name} up`);
        up.disabled = index === 0;
      }
      if (down) {
        down.setAttribute("aria-label", `Move ${name} down`);
        down.disabled = index === rows.length - 1;
      }
    });
  }

  function button(className, text, title) {
    const element = document.createElement("button");
    element.type = "button";
    element.className = `desk-move ${className}`;
    element.textContent = text;
    element.title = title;
    return element;
  }

  function enhanceRow(group, spec, row) {
    if (row.querySelector(".desk-move-controls") || !positionInput(row)) {
      return;
    }
    const controls = document.createElement("span");
    controls.className = "desk-move-controls";
    const handle = document.createElement("span");
    handle.className = "desk-drag-handle";
    handle.title = "Drag to reorder";
    handle.textContent = "⠿";
    const up = button("desk-move-up", "↑", "Move up");
    const down = button("desk-move-down", "↓", "Move down");
    up.addEventListener("click", () => {
      move(group, spec, row, -1);
      (up.disabled ? down : up).focus();
    });
    down.addEventListener("click", () => {
      move(group, spec, row, 1);
      (down.disabled ? up : down).focus();
    });
    handle.addEventListener("pointerdown", (event) => startDrag(group, spec, row, event));
    controls.append(handle, up, down);
    // Stacked rows have a heading; tabular rows a first cell for the row's own things.
    const place = row.querySelector("h3") || row.querySelector("td.original") || row;
    place.prepend(controls);
  }

  // Dragging by the handle with pointer events (mouse, pen and touch alike): the row moves
  // to where the pointer is among its siblings as it goes.
  function startDrag(group, spec, row, event) {
    event.preventDefault();
    const handle = event.currentTarget;
    handle.setPointerCapture(event.pointerId);
    row.classList.add("desk-dragging");
    const follow = (moveEvent) => {
      const others = rowsOf(group, spec).filter((other) => other !== row);
      const before = others.find((other) => {
        const box = other.getBoundingClientRect();
        return moveEvent.clientY < box.top + box.height / 2;
      });
      if (before && before.previousElementSibling !== row) {
        before.before(row);
        reordered(group);
      } else if (!before && others.length && others[others.length - 1].nextElementSibling !== row) {
        others[others.length - 1].after(row);
        reordered(group);
      }
    };
    const stop = () => {
      row.classList.remove("desk-dragging");
      handle.removeEventListener("pointermove", follow);
      handle.removeEventListener("pointerup", stop);
      handle.removeEventListener("pointercancel", stop);
      relabel(group, spec);
    };
    handle.addEventListener("pointermove", follow);
    handle.addEventListener("pointerup", stop);
    handle.addEventListener("pointercancel", stop);
  }

  for (const spec of ORDERED) {
    const group = document.getElementById(`${spec.prefix}-group`);
    if (!group) {
      continue;
    }
    group.classList.add("desk-ordered");
    rowsOf(group, spec).forEach((row) => enhanceRow(group, spec, row));
    relabel(group, spec);
  }

  // A row added with "Add another" goes last, so its position is written on save.
  document.addEventListener("formset:added", (event) => {
    const spec = ORDERED.find((each) => each.prefix === event.detail.formsetName);
    if (!spec) {
      return;
    }
    const group = document.getElementById(`${spec.prefix}-group`);
    enhanceRow(group, spec, event.target);
    reordered(group);
    relabel(group, spec);
  });

  form.addEventListener("input", () => {
    dirty = true;
  });
  form.addEventListener("change", () => {
    dirty = true;
  });
  form.addEventListener("submit", () => {
    for (const spec of ORDERED) {
      const group = document.getElementById(`${spec.prefix}-group`);
      if (group) {
        writePositions(group, spec);
      }
    }
    dirty = false;
  });
  window.addEventListener("beforeunload", (event) => {
    if (dirty) {
      event.preventDefault();
      event.returnValue = "";
    }
  });
})();
