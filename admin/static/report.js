// The monthly report's print button. A file, not an inline handler: the CSP allows no inline script.
document.addEventListener("DOMContentLoaded", function () {
  var button = document.getElementById("print");
  if (button) button.addEventListener("click", function () { window.print(); });
});
