// The procedure catalogue's page: filter while typing, copy a step. Both are extras: the
// search form filters on the server, and a snippet can be selected and copied by hand.
(function () {
  "use strict";

  function filter(input) {
    var list = document.getElementById(input.getAttribute("data-procedure-filter"));
    if (!list) return;
    var words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
    var shown = 0, items = list.querySelectorAll("[data-search]");
    items.forEach(function (item) {
      var text = item.getAttribute("data-search");
      var match = words.every(function (word) { return text.indexOf(word) !== -1; });
      item.hidden = !match;
      if (match) shown += 1;
    });
    var count = document.getElementById("procedure-count");
    if (count) count.textContent = count.textContent.replace(/^\d+/, String(shown));
    var none = document.getElementById("no-match");
    if (none) none.hidden = shown > 0 || items.length === 0;
  }

  function copy(button) {
    var source = document.getElementById(button.getAttribute("data-copy"));
    var status = button.parentNode.querySelector(".copy-status");
    navigator.clipboard.writeText(source.textContent).then(
      function () { if (status) status.textContent = "Copied"; },
      function () { if (status) status.textContent = "Copying failed: select the text and copy it"; }
    );
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("input[data-procedure-filter]").forEach(function (input) {
      input.addEventListener("input", function () { filter(input); });
    });
    if (navigator.clipboard && window.isSecureContext) {
      document.querySelectorAll("button[data-copy]").forEach(function (button) {
        button.hidden = false;
        button.addEventListener("click", function () { copy(button); });
      });
    }
  });
})();
