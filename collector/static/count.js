// How much the resident has written, under a long text box (data-count: the most
// it takes). The server checks the length; this only says it before sending.
// A file, not an inline script: the CSP allows no inline script.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("textarea[data-count]").forEach(function (box) {
    var most = parseInt(box.dataset.count, 10);
    var said = document.createElement("p");
    said.className = "hint";
    said.setAttribute("aria-live", "polite");
    box.insertAdjacentElement("afterend", said);
    function update() {
      var n = box.value.trim().length;
      said.textContent = n + " / " + most;
      said.classList.toggle("error", n > most);
    }
    box.addEventListener("input", update);
    update();
  });
});
