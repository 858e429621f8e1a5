// The dispatcher's ticket page: find a topic by typing part of its name, and
// keys for the common steps. A file, not an inline script: the CSP allows no inline script.
document.addEventListener("DOMContentLoaded", function () {
  var search = document.getElementById("topic-search");
  var select = document.getElementById("topic");
  if (search && select) {
    search.addEventListener("input", function () {
      var wanted = search.value.trim();
      if (!wanted) return;
      var options = Array.prototype.slice.call(select.options);
      var exact = options.filter(function (o) { return o.dataset.name === wanted; })[0];
      var partial = options.filter(function (o) { return o.dataset.name && o.dataset.name.indexOf(wanted) >= 0; });
      var chosen = exact || (partial.length === 1 ? partial[0] : null);
      if (chosen) select.value = chosen.value;
    });
  }
  // n: next in triage · a: the topic picker · m: merge into the most similar · i: mark invalid
  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (target.closest && target.closest("input, textarea, select, [contenteditable]")) return;
    var act = {
      n: function () { var link = document.getElementById("next-in-triage"); if (link) link.click(); },
      a: function () { if (search) search.focus(); },
      m: function () { var button = document.querySelector("[data-shortcut-merge]"); if (button) button.focus(); },
      i: function () {
        var form = document.querySelector("form[action$='/invalidate'] textarea");
        if (form) form.focus();
      }
    }[event.key];
    if (act) { event.preventDefault(); act(); }
  });
});
