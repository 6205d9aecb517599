// hub console: the one script. No framework, no inline code (the pages' CSP forbids it).
// - an element with data-refresh="N" (a run in progress) reloads the page every N seconds;
// - a form with data-confirm asks before it is sent.
(function () {
  "use strict";
  var live = document.querySelector("[data-refresh]");
  if (live) {
    var secs = parseFloat(live.getAttribute("data-refresh")) || 3;
    setTimeout(function () { window.location.reload(); }, secs * 1000);
  }
  document.querySelectorAll("form[data-confirm]").forEach(function (f) {
    f.addEventListener("submit", function (e) {
      if (!window.confirm(f.getAttribute("data-confirm"))) { e.preventDefault(); }
    });
  });
})();
