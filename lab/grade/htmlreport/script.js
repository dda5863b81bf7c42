// Sorting and filtering of the student table. The page is whole without
// it: every row is in the document, in the grader's order.
(function () {
  "use strict";
  var rows = document.getElementById("rows");
  if (!rows) return;
  var all = Array.prototype.slice.call(rows.children);
  // What sorting and filtering read, taken once: the grader's order
  // breaks ties, and names match in any case.
  all.forEach(function (row, i) {
    row.labIndex = i;
    row.labName = row.querySelector(".name").textContent.toLowerCase();
  });
  var shown = document.getElementById("shown");
  var format = shown.getAttribute("data-format");
  var f = {
    name: document.getElementById("f-name"),
    step: document.getElementById("f-step"),
    status: document.getElementById("f-status"),
    flag: document.getElementById("f-flag")
  };
  function matches(row, step, status) {
    var marks = row.getAttribute("data-marks");
    var ok = function (m) { return status === "x" ? m === "f" || m === "e" : m === status; };
    if (step !== "") return status === "" || ok(marks.charAt(+step));
    if (status === "") return true;
    for (var i = 0; i < marks.length; i++) if (ok(marks.charAt(i))) return true;
    return false;
  }
  function filter() {
    var q = f.name.value.trim().toLowerCase(), step = f.step.value, status = f.status.value, flag = f.flag.value, n = 0;
    all.forEach(function (row) {
      var show = (q === "" || row.labName.indexOf(q) >= 0) &&
        matches(row, step, status) &&
        (flag === "" || (" " + row.getAttribute("data-flags") + " ").indexOf(" " + flag + " ") >= 0 || row.getAttribute("data-ver") === flag);
      row.hidden = !show;
      if (show) n++;
    });
    shown.textContent = format.replace("%d", n).replace("%d", all.length);
  }
  f.name.form.addEventListener("submit", function (e) { e.preventDefault(); });
  ["input", "change"].forEach(function (ev) {
    Object.keys(f).forEach(function (k) { f[k].addEventListener(ev, filter); });
  });
  var stepIndex = {};
  Array.prototype.forEach.call(document.querySelectorAll(".sort.step"), function (b, i) { stepIndex[b.getAttribute("data-step")] = i; });
  var rank = { p: 0, f: 2, e: 3, s: 1, "-": 1 };
  function key(row, by, b) {
    switch (by) {
      case "points": return +row.getAttribute("data-points");
      case "step": return rank[row.getAttribute("data-marks").charAt(stepIndex[b.getAttribute("data-step")])];
      case "flags": return row.getAttribute("data-flags");
      case "ver": return row.getAttribute("data-ver");
    }
    return row.labName;
  }
  Array.prototype.forEach.call(document.querySelectorAll(".sort"), function (b) {
    b.addEventListener("click", function () {
      var by = b.getAttribute("data-key");
      var dir = b.getAttribute("aria-pressed") === "true" && b.getAttribute("data-dir") === "asc" ? "desc" : "asc";
      if (b.getAttribute("aria-pressed") !== "true" && by === "points") dir = "desc";
      Array.prototype.forEach.call(document.querySelectorAll(".sort"), function (o) { o.setAttribute("aria-pressed", "false"); o.removeAttribute("data-dir"); });
      b.setAttribute("aria-pressed", "true");
      b.setAttribute("data-dir", dir);
      var sign = dir === "asc" ? 1 : -1;
      var sorted = all.slice().sort(function (x, y) {
        var a = key(x, by, b), c = key(y, by, b);
        if (a < c) return -sign;
        if (a > c) return sign;
        return x.labIndex - y.labIndex;
      });
      var frag = document.createDocumentFragment();
      sorted.forEach(function (r) { frag.appendChild(r); });
      rows.appendChild(frag);
    });
  });
  // A link to a student (from a reason or a copy group) opens their row,
  // even when a filter had hidden it.
  function open() {
    var id = decodeURIComponent(location.hash.slice(1));
    var row = id && document.getElementById(id);
    if (row && row.classList.contains("row")) {
      row.hidden = false;
      row.open = true;
      row.querySelector("summary").focus();
    }
  }
  window.addEventListener("hashchange", open);
  open();
})();
