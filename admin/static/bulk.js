// The ticket list's "select all on this page" (全选本页): ticks or clears every
// ticket's box. A file, not an inline script: the page's CSP allows only these.
document.addEventListener("DOMContentLoaded", function () {
  var all = document.getElementById("select-page");
  if (!all) return;
  var boxes = function () { return document.querySelectorAll('input[name="number"][form="bulk"]'); };
  all.addEventListener("change", function () {
    boxes().forEach(function (box) { box.checked = all.checked; });
  });
  boxes().forEach(function (box) {
    box.addEventListener("change", function () {
      var list = Array.prototype.slice.call(boxes());
      all.checked = list.every(function (b) { return b.checked; });
      all.indeterminate = !all.checked && list.some(function (b) { return b.checked; });
    });
  });
});
