/*
 * Citation tooltips: hovering or focusing a marker such as [2] shows the title of the source
 * it cites, read from the reference list on the same page (li#ref-2), without leaving the text.
 *
 * Progressive enhancement: without this script a marker is a plain link to its reference.
 * One tooltip element (role="tooltip") serves every marker; the marker showing it points to it
 * with aria-describedby. It stays while the pointer is over the marker or the tooltip, or the
 * marker has focus, and Escape dismisses it (WCAG 1.4.13). No inline styles: CSP allows none.
 */
(function () {
  "use strict";

  var HIDE_DELAY_MS = 300;
  var MARGIN_PX = 8;

  function init() {
    var markers = document.querySelectorAll('a.citation[href^="#ref-"]');
    if (!markers.length) {
      return;
    }
    var tooltip = document.createElement("div");
    tooltip.id = "citation-tooltip";
    tooltip.className = "citation-tooltip";
    tooltip.setAttribute("role", "tooltip");
    tooltip.hidden = true;
    // Inside the main landmark, with the text it belongs to.
    (document.querySelector("main") || document.body).appendChild(tooltip);

    var current = null;
    var hideTimer = null;

    function sourceTitle(marker) {
      var reference = document.getElementById(marker.getAttribute("href").slice(1));
      if (!reference) {
        return "";
      }
      var title = reference.querySelector(".reference__title") ||
        reference.querySelector(".reference--unlinked");
      return title ? title.textContent.replace(/\s+/g, " ").trim() : "";
    }

    function place(marker) {
      var box = marker.getBoundingClientRect();
      var page = document.documentElement;
      var width = tooltip.offsetWidth;
      var left = Math.min(box.left, page.clientWidth - width - MARGIN_PX);
      tooltip.style.left = Math.max(MARGIN_PX, left) + window.scrollX + "px";
      var below = box.bottom + MARGIN_PX / 2;
      var top = below + tooltip.offsetHeight > page.clientHeight && box.top > tooltip.offsetHeight
        ? box.top - tooltip.offsetHeight - MARGIN_PX / 2
        : below;
      tooltip.style.top = top + window.scrollY + "px";
    }

    function show(marker) {
      window.clearTimeout(hideTimer);
      var title = sourceTitle(marker);
      if (!title) {
        return;
      }
      if (current && current !== marker) {
        current.removeAttribute("aria-describedby");
      }
      current = marker;
      tooltip.textContent = title;
      tooltip.hidden = false;
      marker.setAttribute("aria-describedby", tooltip.id);
      place(marker);
    }

    function hide() {
      window.clearTimeout(hideTimer);
      tooltip.hidden = true;
      if (current) {
        current.removeAttribute("aria-describedby");
        current = null;
      }
    }

    function hideSoon() {
      window.clearTimeout(hideTimer);
      hideTimer = window.setTimeout(hide, HIDE_DELAY_MS);
    }

    Array.prototype.forEach.call(markers, function (marker) {
      marker.addEventListener("mouseenter", function () { show(marker); });
      marker.addEventListener("focus", function () { show(marker); });
      marker.addEventListener("mouseleave", function () {
        if (document.activeElement !== marker) {
          hideSoon();
        }
      });
      marker.addEventListener("blur", hide);
      // Following the link: the reader is on their way to the full reference.
      marker.addEventListener("click", hide);
    });
    // The pointer may move onto the tooltip (to read or select it) without losing it.
    tooltip.addEventListener("mouseenter", function () { window.clearTimeout(hideTimer); });
    tooltip.addEventListener("mouseleave", function () {
      if (!current || document.activeElement !== current) {
        hideSoon();
      }
    });
    document.addEventListener("keydown", function (event) {
      if ((event.key === "Escape" || event.key === "Esc") && !tooltip.hidden) {
        hide();
      }
    });
    window.addEventListener("resize", function () {
      if (current) {
        place(current);
      }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
