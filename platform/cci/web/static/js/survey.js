/* Respondent screens: after each step (htmx swap) the question heading takes the focus, so a
   screen reader reads the new question; a lost connection is said in words, not silently. */
(function () {
  "use strict";

  function status(text) {
    var box = document.getElementById("survey-status");
    if (box) { box.textContent = text || ""; }
  }

  function message(kind) {
    var box = document.getElementById("survey-status");
    return box ? box.getAttribute("data-" + kind) : "";
  }

  document.addEventListener("htmx:beforeRequest", function () { status(""); });
  document.addEventListener("htmx:sendError", function () { status(message("offline")); });
  document.addEventListener("htmx:responseError", function () { status(message("failed")); });
  document.addEventListener("htmx:afterSettle", function () {
    var heading = document.getElementById("step-heading");
    if (heading) { heading.focus(); }
  });

  // The display switch returns to the page shown now (htmx may have moved on since loading).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.classList && form.classList.contains("a11y-switch")) {
      var next = form.querySelector("input[name=next]");
      if (next) { next.value = window.location.pathname + window.location.search; }
    }
  });
})();
