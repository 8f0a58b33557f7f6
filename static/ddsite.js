// A quiet countdown in the last minutes of the DeskDirector session.
(function () {
  "use strict";
  function formatRemaining(seconds) {
    var minutes = Math.floor(seconds / 60);
    var rest = String(seconds % 60).padStart(2, "0");
    return minutes + ":" + rest;
  }
  function startCountdown(element) {
    var exp = Number(element.dataset.exp);
    var warn = Number(element.dataset.warn);
    function tick() {
      var left = Math.max(0, Math.round(exp - Date.now() / 1000));
      if (left > warn) { element.hidden = true; return; }
      element.hidden = false;
      if (left === 0) {
        element.textContent = "Your session has ended. Reload to reopen it from DeskDirector.";
        element.classList.add("ended");
        clearInterval(timer);
        return;
      }
      element.textContent = "Session ends in " + formatRemaining(left);
    }
    var timer = setInterval(tick, 1000);
    tick();
  }
  // A second click while the first is on its way does nothing (the server also sends each form
  // only once). Buttons are not disabled: a disabled submitter would drop its own name=value.
  function preventDoubleSubmit(form) {
    form.addEventListener("submit", function (event) {
      if (form.classList.contains("submitting")) { event.preventDefault(); return; }
      form.classList.add("submitting");
    });
  }
  // Back may restore a page from the back/forward cache exactly as it was left: with the text
  // of a form sent from it. Fetch such a page afresh (an empty composer and a new key, or the
  // kept draft if the send failed) rather than offer the same text to send again.
  window.addEventListener("pageshow", function (event) {
    if (event.persisted && document.querySelector("form.submitting")) { window.location.reload(); }
  });
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".countdown[data-exp]").forEach(startCountdown);
    document.querySelectorAll("form[method=post]").forEach(preventDoubleSubmit);
  });
})();
