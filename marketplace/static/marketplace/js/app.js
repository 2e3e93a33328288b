/* Portal behaviour. No inline scripts anywhere (Content-Security-Policy); everything is here. */
(function () {
  "use strict";

  document.documentElement.classList.add("js");

  function onReady(fn) {
    if (document.readyState !== "loading") { fn(); } else { document.addEventListener("DOMContentLoaded", fn); }
  }

  onReady(function () {
    // Mobile navigation toggle.
    var toggle = document.querySelector("[data-nav-toggle]");
    var nav = document.getElementById("site-nav");
    if (toggle && nav) {
      toggle.addEventListener("click", function () {
        var open = toggle.getAttribute("aria-expanded") === "true";
        toggle.setAttribute("aria-expanded", open ? "false" : "true");
        nav.classList.toggle("is-open", !open);
      });
    }

    // Selects that submit their form on change (the language switch).
    document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
      select.addEventListener("change", function () { select.form.requestSubmit(); });
    });

    // Confirmation before consequential actions: <button data-confirm="...">.
    document.addEventListener("click", function (event) {
      var target = event.target.closest("[data-confirm]");
      if (target && !window.confirm(target.getAttribute("data-confirm"))) {
        event.preventDefault();
      }
    });
  });

  // After htmx swaps results, move focus to them for screen-reader and keyboard users.
  document.addEventListener("htmx:afterSwap", function (event) {
    var region = event.detail.target;
    if (region && region.hasAttribute("data-focus-after-swap")) {
      region.setAttribute("tabindex", "-1");
      region.focus({ preventScroll: true });
    }
  });
})();
