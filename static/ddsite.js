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
  function preventDoubleSubmit(form) {
    form.addEventListener("submit", function (event) {
      if (form.dataset.submitted) { event.preventDefault(); return; }
      form.dataset.submitted = "1";
      form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
    });
  }
  // Quick actions: confirm here when scripts run; otherwise the server asks on a page of its own.
  function confirmSubmit(form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.dataset.confirm)) { event.preventDefault(); event.stopImmediatePropagation(); return; }
      var confirmed = form.querySelector("input[name=confirmed]");
      if (confirmed) { confirmed.value = "yes"; }
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".countdown[data-exp]").forEach(startCountdown);
    document.querySelectorAll("form[data-confirm]").forEach(confirmSubmit);
    document.querySelectorAll("form[method=post]").forEach(preventDoubleSubmit);
  });
})();
