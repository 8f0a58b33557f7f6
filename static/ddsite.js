// ddsite's behaviour in the page: feedback while waiting, errors in view, the session notice,
// lists that apply on change and keep their place, and the agents' keyboard path.
// Everything here improves pages that already work without it.
(function () {
  "use strict";
  var SHOW_PROGRESS_AFTER_MS = 150;  // faster answers never flicker a bar
  var STILL_WAITING_AFTER_MS = 3000;  // then say so in words too

  // ---- the session notice, in the last minutes of the DeskDirector session ----------------
  function formatRemaining(seconds) {
    var minutes = Math.floor(seconds / 60);
    var rest = String(seconds % 60).padStart(2, "0");
    return minutes + ":" + rest;
  }
  function startCountdown(element) {
    var exp = Number(element.dataset.exp);
    var warn = Number(element.dataset.warn);
    var lastSpokenMinute = null;
    function tick() {
      var left = Math.max(0, Math.round(exp - Date.now() / 1000));
      if (left > warn) { element.hidden = true; return; }
      element.hidden = false;
      if (left === 0) {
        element.textContent = "Your session has ended. Anything you send now is kept as a draft; " +
          "reopen this page from DeskDirector to send it.";
        element.classList.add("ended");
        clearInterval(timer);
        return;
      }
      // Screen readers hear the minute changes, not every second.
      var minute = Math.ceil(left / 60);
      element.setAttribute("aria-live", minute === lastSpokenMinute ? "off" : "polite");
      lastSpokenMinute = minute;
      element.textContent = "Your session ends in " + formatRemaining(left) +
        ". Send what you are writing before then, or reopen from DeskDirector.";
    }
    var timer = setInterval(tick, 1000);
    tick();
  }

  // ---- feedback while a page or a form is on its way ---------------------------------------
  var busyTimer = null;
  var waitingTimer = null;
  function startBusy() {
    clearTimeout(busyTimer);
    clearTimeout(waitingTimer);
    busyTimer = setTimeout(function () { document.documentElement.classList.add("busy"); },
                           SHOW_PROGRESS_AFTER_MS);
    waitingTimer = setTimeout(function () {
      var status = document.querySelector("[data-waiting]");
      if (status) {
        status.textContent = "Still waiting for DeskDirector…";
        status.classList.remove("visually-hidden");
      }
    }, STILL_WAITING_AFTER_MS);
  }
  function stopBusy() {
    clearTimeout(busyTimer);
    clearTimeout(waitingTimer);
    document.documentElement.classList.remove("busy");
    var status = document.querySelector("[data-waiting]");
    if (status) { status.textContent = ""; status.classList.add("visually-hidden"); }
    document.querySelectorAll("[data-sending]").forEach(function (button) {
      button.textContent = button.dataset.sending;
      button.removeAttribute("data-sending");
    });
    document.querySelectorAll("form.submitting").forEach(function (f) { f.classList.remove("submitting"); });
  }
  function leavesThePage(link, event) {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey ||
        event.shiftKey || event.altKey) { return false; }
    if (link.target || link.hasAttribute("download")) { return false; }
    if (link.origin !== window.location.origin) { return false; }
    // Only the fragment changes: no request, nothing to wait for.
    return !(link.pathname === window.location.pathname && link.search === window.location.search &&
             link.hash);
  }
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[href]");
    if (link && leavesThePage(link, event)) { startBusy(); }
  });

  // A second click while the first is on its way does nothing (the server also sends each form
  // only once). Buttons are not disabled: a disabled submitter would drop its own name=value.
  function watchSubmit(form) {
    form.addEventListener("submit", function (event) {
      if (form.classList.contains("submitting")) { event.preventDefault(); return; }
      form.classList.add("submitting");
      if (form.classList.contains("quick-action")) { rememberScroll(form); }
      var button = event.submitter;
      if (form.method === "post" && button && button.tagName === "BUTTON" && !button.dataset.sending) {
        button.dataset.sending = button.textContent;
        button.textContent = button.dataset.busyLabel || "Sending…";
      }
      startBusy();
    });
  }
  // Back may restore a page from the back/forward cache exactly as it was left: with the text
  // of a form sent from it. Fetch such a page afresh (an empty composer and a new key, or the
  // kept draft if the send failed) rather than offer the same text to send again; any other
  // page comes back ready to use.
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) { return; }
    if (document.querySelector("form.submitting")) { window.location.reload(); return; }
    stopBusy();
  });

  // ---- errors where the eye is -------------------------------------------------------------
  function focusFirstProblem() {
    var invalid = document.querySelector("[aria-invalid=true]");
    if (invalid) {
      invalid.focus();
      return;
    }
    var sent = document.querySelector(".sent-confirmation");
    if (sent) { sent.scrollIntoView({block: "center"}); }
  }
  // A link in an error summary focuses its field, not only scrolls to it.
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest(".error-summary a[href^='#']");
    if (!link) { return; }
    var field = document.getElementById(link.hash.slice(1));
    if (field) { event.preventDefault(); field.focus(); }
  });

  // ---- lists: filters apply on change, quick actions come back to the same place -----------
  function autoSubmit(form) {
    form.querySelectorAll("select").forEach(function (select) {
      select.addEventListener("change", function () { form.requestSubmit(); });
    });
  }
  // Storage is often denied inside a third-party iframe, so the place travels in the address:
  // the action gets at=<scrollY>, and the server's redirect back ends in #at=<scrollY>.
  function rememberScroll(form) {
    var action = new URL(form.action);
    action.searchParams.set("at", String(Math.round(window.scrollY)));
    form.action = action.toString();
  }
  function restoreScroll() {
    var match = /^#at=(\d+)$/.exec(window.location.hash);
    if (!match) { return; }
    history.replaceState(null, "", window.location.pathname + window.location.search);
    window.scrollTo(0, Number(match[1]));
  }

  // ---- the agents' keyboard path -----------------------------------------------------------
  function typing(target) {
    return target.closest && target.closest("input, textarea, select, [contenteditable]");
  }
  function queueRows() { return Array.prototype.slice.call(document.querySelectorAll("[data-queue] tbody tr")); }
  function selectRow(step) {
    var rows = queueRows();
    if (!rows.length) { return; }
    var current = rows.findIndex(function (row) { return row.classList.contains("selected"); });
    var next = Math.min(rows.length - 1, Math.max(0, current === -1 ? 0 : current + step));
    rows.forEach(function (row) { row.classList.remove("selected"); });
    rows[next].classList.add("selected");
    var link = rows[next].querySelector("a[data-open]");
    if (link) { link.focus(); }
  }
  function toggleHelp(show) {
    var panel = document.getElementById("keys-help");
    if (!panel) { return; }
    var open = show === undefined ? panel.hidden : show;
    panel.hidden = !open;
    document.querySelectorAll("[data-keys-help]").forEach(function (b) {
      b.setAttribute("aria-expanded", String(open));
    });
    if (open) { panel.focus(); }
  }
  function closeOpenThings() {
    var closed = false;
    document.querySelectorAll("details.confirm[open]").forEach(function (d) {
      d.open = false;
      d.querySelector("summary").focus();
      closed = true;
    });
    var panel = document.getElementById("keys-help");
    if (panel && !panel.hidden) { toggleHelp(false); closed = true; }
    return closed;
  }
  function onKey(event) {
    if (event.key === "Escape") {
      if (closeOpenThings()) { event.preventDefault(); }
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) { return; }
    if (!document.getElementById("keys-help")) { return; }  // agent pages only
    if (event.key === "j") { selectRow(1); event.preventDefault(); }
    else if (event.key === "k") { selectRow(-1); event.preventDefault(); }
    else if (event.key === "?") { toggleHelp(); event.preventDefault(); }
    else if (event.key === "r") {
      var composer = document.querySelector("[data-composer] textarea");
      if (composer) { composer.focus(); event.preventDefault(); }
    }
  }
  // One confirmation open at a time: opening one closes the others.
  document.addEventListener("toggle", function (event) {
    var opened = event.target;
    if (!opened.matches || !opened.matches("details.confirm") || !opened.open) { return; }
    document.querySelectorAll("details.confirm[open]").forEach(function (d) {
      if (d !== opened) { d.open = false; }
    });
  }, true);

  document.addEventListener("DOMContentLoaded", function () {
    // The first page after sign-in, where the cookie proved to work: the session handle leaves
    // the address (it no longer opens anything) without another request.
    if (document.body.dataset.cleanUrl) {
      try {
        history.replaceState(history.state, "", document.body.dataset.cleanUrl + location.hash);
      } catch (error) {
        // An address the frame may not rewrite: the handle stays in it, opening nothing.
      }
    }
    document.querySelectorAll(".session-notice[data-exp]").forEach(startCountdown);
    document.querySelectorAll("form").forEach(watchSubmit);
    document.querySelectorAll("form[data-autosubmit]").forEach(autoSubmit);
    document.querySelectorAll("[data-keys-help]").forEach(function (b) {
      b.addEventListener("click", function () { toggleHelp(); });
    });
    document.querySelectorAll("[data-keys-help-close]").forEach(function (b) {
      b.addEventListener("click", function () { toggleHelp(false); });
    });
    document.addEventListener("keydown", onKey);
    restoreScroll();
    focusFirstProblem();
  });
})();
