// Small progressive enhancements; every page works without them.
document.addEventListener("DOMContentLoaded", function () {
  // On a phone, long filter forms start folded so the results are on the first screen.
  if (window.matchMedia("(max-width: 640px)").matches) {
    document.querySelectorAll("details[data-close-on-phone]").forEach(function (el) { el.open = false; });
  }
});
