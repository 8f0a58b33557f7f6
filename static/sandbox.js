// The sandbox shell's "token expires in" readout.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var readout = document.getElementById("token-expiry");
    if (!readout) { return; }
    var expiresAt = Number(readout.dataset.expiresAt);
    function tick() {
      var left = Math.max(0, Math.round(expiresAt - Date.now() / 1000));
      readout.textContent = left === 0 ? "Token expired" : "Token expires in " +
        Math.floor(left / 60) + ":" + String(left % 60).padStart(2, "0");
    }
    tick();
    setInterval(tick, 1000);
  });
})();
