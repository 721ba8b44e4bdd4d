/* 언제나 돌봄 console: small progressive enhancement. The pages work without it.
   - countdowns ([data-deadline]) and time since the call ([data-since]) on the server's clock
   - the live board: polls the board's version and swaps in the groups when anything changed
   - the intake form: child rows, typed presets, Ctrl+Enter, the duplicate-caller panel */
(function () {
  "use strict";
  var offset = 0; // server time minus this browser's time: countdowns follow the server's clock

  function syncClock(root) {
    var el = (root || document).querySelector("[data-now]");
    var stamp = el && el.getAttribute("data-now");
    if (!stamp) stamp = document.body.getAttribute("data-now");
    if (stamp) offset = Date.parse(stamp) - Date.now();
  }
  function serverNow() { return Date.now() + offset; }
  function minutesText(s) {
    var m = Math.floor(s / 60);
    return m < 60 ? m + "분" : Math.floor(m / 60) + "시간 " + (m % 60) + "분";
  }
  function tick() {
    var now = serverNow();
    document.querySelectorAll("[data-deadline]").forEach(function (el) {
      var left = (Date.parse(el.getAttribute("data-deadline")) - now) / 1000;
      if (left <= 0) { el.textContent = "기한 지남"; el.classList.add("late"); return; }
      el.textContent = (left < 3600 ? Math.floor(left / 60) + "분 " + Math.floor(left % 60) + "초" : minutesText(left)) + " 남음";
      el.classList.toggle("late", left < 120 && !el.hasAttribute("data-plain"));
    });
    document.querySelectorAll("[data-since]").forEach(function (el) {
      var s = (now - Date.parse(el.getAttribute("data-since"))) / 1000;
      el.textContent = s < 60 ? "방금" : minutesText(s) + " 전";
    });
  }

  function liveBoard() {
    var board = document.getElementById("board");
    if (!board) return;
    var version = board.getAttribute("data-version");
    var busy = false;
    function poll() {
      if (busy) return;
      busy = true;
      fetch(board.getAttribute("data-version-url"), { credentials: "same-origin", cache: "no-store" })
        .then(function (r) {
          if (r.status === 401) { location.href = "/console/login"; throw new Error("signed out"); }
          return r.text();
        })
        .then(function (v) {
          if (v === version) return null;
          return fetch(board.getAttribute("data-groups-url"), { credentials: "same-origin", cache: "no-store" })
            .then(function (r) { return r.text(); })
            .then(function (html) { version = v; board.innerHTML = html; board.setAttribute("data-version", v); syncClock(board); tick(); });
        })
        .catch(function () {})
        .then(function () { busy = false; });
    }
    setInterval(poll, 1500);
  }

  function intake() {
    var form = document.getElementById("intake-form");
    if (!form) return;
    var rows = document.getElementById("child-rows");
    var tpl = document.getElementById("child-template");
    var max = parseInt(document.getElementById("children").getAttribute("data-max"), 10) || 5;
    function renumber() {
      rows.querySelectorAll(".child-row").forEach(function (row, n) {
        row.querySelectorAll("label").forEach(function (l) { l.textContent = l.textContent.replace(/아동 \d+/, "아동 " + (n + 1)); });
        var b = row.querySelector(".remove-child");
        b.setAttribute("aria-label", "아동 " + (n + 1) + " 삭제");
        b.disabled = rows.children.length === 1;
      });
      document.getElementById("add-child").disabled = rows.children.length >= max;
    }
    function addRow() {
      if (rows.children.length >= max) return null;
      var used = Array.prototype.map.call(rows.children, function (r) { return parseInt(r.getAttribute("data-index"), 10); });
      var i = 0; while (used.indexOf(i) >= 0) i++;
      var html = tpl.innerHTML.replace(/__I__/g, i).replace(/__N__/g, rows.children.length + 1);
      rows.insertAdjacentHTML("beforeend", html);
      renumber();
      var input = document.getElementById("child" + i + "_name");
      input.focus();
      return input;
    }
    document.getElementById("add-child").addEventListener("click", addRow);
    rows.addEventListener("click", function (e) {
      var b = e.target.closest(".remove-child");
      if (!b || rows.children.length === 1) return;
      var row = b.closest(".child-row");
      var next = row.nextElementSibling || row.previousElementSibling;
      row.remove();
      renumber();
      if (next) next.querySelector("input").focus();
    });
    rows.addEventListener("keydown", function (e) {
      // Enter in a birth date adds the next child (and never submits half a form)
      if (e.key === "Enter" && e.target.classList.contains("birth")) {
        e.preventDefault();
        var row = e.target.closest(".child-row");
        if (row === rows.lastElementChild && e.target.value.trim()) addRow();
        else if (row.nextElementSibling) row.nextElementSibling.querySelector("input").focus();
      }
    });
    form.addEventListener("keydown", function (e) {
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); form.requestSubmit(); }
    });
    renumber();

    var day = document.getElementById("day"), start = document.getElementById("start_time"), end = document.getElementById("end_time");
    var today = day.getAttribute("data-today");
    document.querySelectorAll("[data-preset]").forEach(function (b) {
      b.addEventListener("click", function () {
        var p = b.getAttribute("data-preset");
        if (p === "today") day.value = "오늘";
        if (p === "tomorrow") day.value = "내일";
        if (p === "now") { day.value = "오늘"; start.value = "지금"; }
        if (p === "plus4") end.value = "+4";
        lookup();
      });
    });

    var phone = document.getElementById("guardian_phone");
    var panel = document.getElementById("caller-panel");
    var timer = null, last = "";
    function lookup() {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var digits = phone.value.replace(/\D/g, "");
        if (digits.length < 10) return;
        var q = "phone=" + encodeURIComponent(phone.value) + "&day=" + encodeURIComponent(day.value) +
                "&start=" + encodeURIComponent(start.value) + "&end=" + encodeURIComponent(end.value);
        if (q === last) return;
        last = q;
        fetch(panel.getAttribute("data-url") + "?" + q, { credentials: "same-origin", cache: "no-store" })
          .then(function (r) { return r.text(); })
          .then(function (html) { panel.innerHTML = html; })
          .catch(function () {});
      }, 250);
    }
    [phone, day, start, end].forEach(function (el) { el.addEventListener("input", lookup); el.addEventListener("change", lookup); });
    if (phone.value) lookup();
  }

  syncClock();
  tick();
  setInterval(tick, 1000);
  liveBoard();
  intake();
})();
