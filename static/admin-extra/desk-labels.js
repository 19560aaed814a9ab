// Names for the admin's autocompletes (select2), which name their box after the chosen option
// only, so an empty one has no name at all: the box is labelled by the <select>'s own label
// (the hidden "Reference 3: Source" of the inline row) and then by what it shows.
"use strict";

(function () {
  function name(container) {
    const select = container.previousElementSibling;
    const label = select && select.tagName === "SELECT" && select.labels[0];
    const box = container.querySelector(".select2-selection[role=combobox]");
    const shown = container.querySelector(".select2-selection__rendered");
    if (!label || !box || !shown) return;
    if (!label.id) label.id = `${select.id}-label`;
    box.setAttribute("aria-labelledby", `${label.id} ${shown.id}`);
    shown.setAttribute("aria-labelledby", label.id);
  }

  function nameAll(root) {
    root.querySelectorAll(".select2-container").forEach(name);
  }

  // select2 builds its box when jQuery is ready and again for each inline row added.
  new MutationObserver((mutations) => {
    for (const mutation of mutations) {
      for (const node of mutation.addedNodes) {
        if (node.nodeType !== Node.ELEMENT_NODE) continue;
        if (node.matches(".select2-container")) name(node);
        else nameAll(node);
      }
    }
  }).observe(document.documentElement, { childList: true, subtree: true });
  nameAll(document);
})();
