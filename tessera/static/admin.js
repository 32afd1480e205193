// The console's only script: the Copy button beside a secret shown once. Without it the
// secret is still in a read-only field, selected on focus, to copy by hand.
(function () {
  "use strict";
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    var field = document.getElementById(button.getAttribute("data-copy"));
    var note = document.querySelector("[data-copied-note]");
    if (!field) { return; }
    button.hidden = false;
    field.addEventListener("focus", function () { field.select(); });
    button.addEventListener("click", function () {
      var done = function () {
        // The words come from the page, in its language.
        button.textContent = button.getAttribute("data-copied-label") || "Copied";
        if (note) { note.textContent = note.getAttribute("data-copied-text") || "The secret is on your clipboard."; }
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(field.value).then(done, function () { field.select(); });
      } else {
        field.select();
        if (document.execCommand("copy")) { done(); }
      }
    });
  });
})();
