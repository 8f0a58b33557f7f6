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
  // Coming back with the back button restores the page as it was: let its forms be sent again.
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) {
      document.querySelectorAll("form.submitting").forEach(function (f) { f.classList.remove("submitting"); });
    }
  });
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".countdown[data-exp]").forEach(startCountdown);
    document.querySelectorAll("form[method=post]").forEach(preventDoubleSubmit);
  });
})();
