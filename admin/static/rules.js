// A routing rule's street list offers only the streets of the district chosen
// (every street when no district is). A file, not an inline script: the CSP allows no inline script.
document.addEventListener("DOMContentLoaded", function () {
  var district = document.getElementById("district");
  var street = document.getElementById("street");
  if (!district || !street) return;
  function narrow() {
    Array.prototype.forEach.call(street.options, function (option) {
      var elsewhere = district.value && option.dataset.district && option.dataset.district !== district.value;
      option.hidden = !!elsewhere;
      option.disabled = !!elsewhere;
    });
    var chosen = street.options[street.selectedIndex];
    if (chosen && chosen.disabled) street.value = "";
  }
  district.addEventListener("change", narrow);
  narrow();
});
