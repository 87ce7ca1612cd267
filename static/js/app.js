// Small progressive enhancements; every page works without them.
document.addEventListener("DOMContentLoaded", function () {
  // On a phone, long filter forms start folded so the results are on the first screen.
  if (window.matchMedia("(max-width: 640px)").matches) {
    document.querySelectorAll("details[data-close-on-phone]").forEach(function (el) { el.open = false; });
  }
});

// Tables marked "sortable": each column header becomes a button that sorts the rows (numbers by value,
// text alphabetically; a cell's data-sort wins over its text). Without script the table reads as it is.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("table.sortable").forEach(function (table) {
    var headers = table.querySelectorAll("thead th");
    headers.forEach(function (th, index) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "sort-button";
      button.textContent = th.textContent;
      th.textContent = "";
      th.appendChild(button);
      button.addEventListener("click", function () {
        var ascending = th.getAttribute("aria-sort") !== "ascending";
        headers.forEach(function (other) { other.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        var key = function (row) {
          var cell = row.cells[index];
          var given = cell.getAttribute("data-sort");
          if (given !== null) { return isNaN(parseFloat(given)) ? given.toLowerCase() : parseFloat(given); }
          // Shown numbers are Indonesian: "1.234" is a thousand and more, "12%" a share.
          var raw = cell.textContent.trim();
          var number = /^[\d.,%\s–-]+$/.test(raw) ? parseFloat(raw.replace(/\./g, "").replace(",", ".")) : NaN;
          return isNaN(number) ? raw.toLowerCase() : number;
        };
        rows.sort(function (a, b) {
          var x = key(a), y = key(b);
          var order = (typeof x === "number" && typeof y === "number") ? x - y : String(x).localeCompare(String(y));
          return ascending ? order : -order;
        });
        rows.forEach(function (row) { body.appendChild(row); });
      });
    });
  });
});

// Milestone update: choosing "met" fills today as the completion date (when empty) and the progress as 100;
// both stay editable. Without script the officer types them.
document.addEventListener("DOMContentLoaded", function () {
  var status = document.querySelector("form select[name=status]");
  var completed = document.querySelector("form input[name=completed_on]");
  if (!status || !completed) { return; }
  status.addEventListener("change", function () {
    if (status.value !== "met") { return; }
    if (!completed.value) {
      var now = new Date();
      var pad = function (n) { return (n < 10 ? "0" : "") + n; };
      completed.value = now.getFullYear() + "-" + pad(now.getMonth() + 1) + "-" + pad(now.getDate());
    }
    var progress = document.querySelector("form input[name=progress]");
    if (progress && Number(progress.value || 0) < 100) { progress.value = "100"; }
  });
});
