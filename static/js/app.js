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

// The region picker (agreements/widgets.py): a select of regions grouped by province becomes a search box. Typing
// part of a name lists the matching regions (name, kind, province); arrows and Enter or a tap choose one, which
// becomes a chip with a "Remove …" button. The select stays in the form, hidden, and is what is submitted.
document.addEventListener("DOMContentLoaded", function () {
  var counter = 0;
  document.querySelectorAll("select[data-region-picker]").forEach(function (select) {
    counter += 1;
    var multiple = select.multiple;
    var options = Array.prototype.filter.call(select.options, function (o) { return o.value !== ""; });
    var wrapper = document.createElement("div");
    wrapper.className = "region-picker";
    var chips = document.createElement("ul");
    chips.className = "picker-chips";
    var input = document.createElement("input");
    input.type = "search";
    input.autocomplete = "off";
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-label", select.dataset.searchLabel);
    input.placeholder = select.dataset.searchLabel;
    var list = document.createElement("ul");
    list.id = "region-picker-" + counter;
    list.className = "picker-results";
    list.setAttribute("role", "listbox");
    list.hidden = true;
    input.setAttribute("aria-controls", list.id);
    if (select.id) {
      input.id = select.id + "-search";
      var label = document.querySelector("label[for='" + select.id + "']");
      if (label) { label.htmlFor = input.id; }
    }
    select.hidden = true;
    select.setAttribute("aria-hidden", "true");
    select.parentNode.insertBefore(wrapper, select);
    wrapper.appendChild(chips);
    wrapper.appendChild(input);
    wrapper.appendChild(list);
    wrapper.appendChild(select);

    var active = -1;
    var matches = [];
    var name = function (o) { return o.text.replace(/\s*\([^)]*\)\s*$/, ""); };
    var where = function (o) {
      var kind = (o.text.match(/\(([^)]*)\)\s*$/) || ["", ""])[1];
      var group = o.parentNode && o.parentNode.label ? o.parentNode.label : "";
      return kind + (group && group !== name(o) ? ", " + group : "");
    };
    var renderChips = function () {
      chips.textContent = "";
      options.forEach(function (o) {
        if (!o.selected) { return; }
        var li = document.createElement("li");
        li.className = "chip";
        li.appendChild(document.createTextNode(name(o) + " "));
        var remove = document.createElement("button");
        remove.type = "button";
        remove.textContent = "×";
        remove.setAttribute("aria-label", select.dataset.removeLabel.replace("%(name)s", name(o)));
        remove.addEventListener("click", function () {
          o.selected = false;
          if (!multiple) { select.value = ""; }
          renderChips();
          input.focus();
        });
        li.appendChild(remove);
        chips.appendChild(li);
      });
    };
    var close = function () {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    };
    var choose = function (o) {
      if (multiple) { o.selected = true; } else { select.value = o.value; }
      input.value = "";
      close();
      renderChips();
    };
    var highlight = function (index) {
      active = index;
      Array.prototype.forEach.call(list.children, function (li, i) {
        li.setAttribute("aria-selected", i === index ? "true" : "false");
      });
      if (index >= 0 && list.children[index]) {
        input.setAttribute("aria-activedescendant", list.children[index].id);
        list.children[index].scrollIntoView({ block: "nearest" });
      }
    };
    var search = function () {
      var query = input.value.trim().toLowerCase();
      list.textContent = "";
      if (!query) { close(); return; }
      matches = options.filter(function (o) {
        return !o.selected && (o.text + " " + where(o)).toLowerCase().indexOf(query) !== -1;
      }).slice(0, 20);
      matches.forEach(function (o, i) {
        var li = document.createElement("li");
        li.id = list.id + "-" + i;
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", "false");
        var strong = document.createElement("strong");
        strong.textContent = name(o);
        li.appendChild(strong);
        li.appendChild(document.createTextNode(" — " + where(o)));
        li.addEventListener("mousedown", function (event) { event.preventDefault(); choose(o); });
        list.appendChild(li);
      });
      if (!matches.length) {
        var none = document.createElement("li");
        none.className = "muted";
        none.textContent = select.dataset.emptyLabel;
        list.appendChild(none);
      }
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
      highlight(matches.length ? 0 : -1);
    };
    input.addEventListener("input", search);
    input.addEventListener("keydown", function (event) {
      if (event.key === "ArrowDown" && matches.length) {
        event.preventDefault();
        if (list.hidden) { search(); } else { highlight(Math.min(active + 1, matches.length - 1)); }
      } else if (event.key === "ArrowUp" && matches.length) {
        event.preventDefault();
        highlight(Math.max(active - 1, 0));
      } else if (event.key === "Enter") {
        if (!list.hidden && active >= 0 && matches[active]) { event.preventDefault(); choose(matches[active]); }
      } else if (event.key === "Escape") {
        close();
      }
    });
    input.addEventListener("blur", function () { window.setTimeout(close, 150); });
    renderChips();
  });
});

// The affairs map: Escape hides the affair name shown under a column's code (hover or focus) until the pointer or
// the focus leaves that column's header. Without script the name still hides when they leave.
document.addEventListener("keydown", function (event) {
  if (event.key !== "Escape") { return; }
  document.querySelectorAll(".affair-map .affair-col:hover, .affair-map .affair-col:focus-within").forEach(function (th) {
    th.classList.add("tip-dismissed");
    var reset = function () { th.classList.remove("tip-dismissed"); };
    th.addEventListener("mouseleave", reset, { once: true });
    th.addEventListener("focusout", reset, { once: true });
  });
});
