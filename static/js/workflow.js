// The dashboard's only script: local times, the browser's zone for log filters, confirm
// prompts. Everything works without it (times then stay in UTC, as labelled).
(function () {
  "use strict";

  var pad = function (n) { return String(n).padStart(2, "0"); };

  function localize(root) {
    root.querySelectorAll("time.ts[datetime]").forEach(function (el) {
      var when = new Date(el.getAttribute("datetime"));
      if (isNaN(when)) return;
      el.textContent = when.getFullYear() + "-" + pad(when.getMonth() + 1) + "-" + pad(when.getDate()) +
        " " + pad(when.getHours()) + ":" + pad(when.getMinutes()) + ":" + pad(when.getSeconds());
      el.classList.add("ts-local");
    });
  }

  function zone() {
    try { return Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { return ""; }
  }

  function setup(root) {
    localize(root);
    var tz = zone();
    root.querySelectorAll("input[data-tz]").forEach(function (el) { if (!el.value) el.value = tz; });
    root.querySelectorAll("[data-tz-note]").forEach(function (el) { if (tz) el.textContent = "From/To in " + tz; });
  }

  document.addEventListener("submit", function (event) {
    var message = event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) event.preventDefault();
  });
  document.addEventListener("htmx:load", function (event) { setup(event.detail.elt); });
  document.addEventListener("DOMContentLoaded", function () { setup(document); });
})();

/* --- logs: a log line's time to the millisecond in the viewer's zone, with its offset --- */
(function () {
  "use strict";

  var pad = function (n, width) { return String(n).padStart(width || 2, "0"); };

  function offset(when) {
    var minutes = -when.getTimezoneOffset();
    var sign = minutes < 0 ? "-" : "+";
    minutes = Math.abs(minutes);
    return sign + pad(Math.floor(minutes / 60)) + ":" + pad(minutes % 60);
  }

  function localizeLogTimes(root) {
    root.querySelectorAll("time.ts-ms[datetime]").forEach(function (el) {
      var when = new Date(el.getAttribute("datetime"));
      if (isNaN(when)) return;
      el.textContent = when.getFullYear() + "-" + pad(when.getMonth() + 1) + "-" + pad(when.getDate()) +
        " " + pad(when.getHours()) + ":" + pad(when.getMinutes()) + ":" + pad(when.getSeconds()) +
        "." + pad(when.getMilliseconds(), 3) + " " + offset(when);
      el.classList.add("ts-local");
    });
    var zone = "";
    try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { zone = ""; }
    if (zone) root.querySelectorAll("[data-tz-name]").forEach(function (el) { el.textContent = "(" + zone + ")"; });
  }

  document.addEventListener("htmx:load", function (event) { localizeLogTimes(event.detail.elt); });
  document.addEventListener("DOMContentLoaded", function () { localizeLogTimes(document); });
})();
