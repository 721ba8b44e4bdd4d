/* 언제나 돌봄 console: small progressive enhancement. The pages work without it.
   - countdowns ([data-deadline]) and time since the call ([data-since]) on the server's clock
   - the live board: polls the board's version and swaps in the groups when anything changed
   - the intake form: child rows, typed presets, Ctrl+Enter, the duplicate-caller panel
   - the sign-in's end: a warning ten minutes before it (body[data-session-ends], on the server's clock)
   - drafts: what is typed in a form[data-draft] is kept in this tab's sessionStorage, so a forced sign-in
     (or a slip of the mouse) loses nothing: after signing in again the form comes back filled. A draft is
     forgotten when its form was sent and the server took it, at sign-out, and with the tab. */
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
          if (r.status === 401) { location.href = signInUrl(); throw new Error("signed out"); }
          return r.text();
        })
        .then(function (v) {
          if (v === version) return null;
          return fetch(board.getAttribute("data-groups-url"), { credentials: "same-origin", cache: "no-store" })
            .then(function (r) { return r.text(); })
            .then(function (html) {
              // folded groups the operator opened stay open across the refresh
              var open = Array.prototype.map.call(board.querySelectorAll("details[data-key][open]"),
                                                  function (d) { return d.getAttribute("data-key"); });
              version = v; board.innerHTML = html; board.setAttribute("data-version", v);
              open.forEach(function (key) {
                var d = board.querySelector('details[data-key="' + key + '"]');
                if (d) d.open = true;
              });
              syncClock(board); tick();
            });
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
    function addRow(wanted) {
      if (rows.children.length >= max) return null;
      var used = Array.prototype.map.call(rows.children, function (r) { return parseInt(r.getAttribute("data-index"), 10); });
      var i = 0; while (used.indexOf(i) >= 0) i++;
      if (typeof wanted === "number") i = wanted;
      var html = tpl.innerHTML.replace(/__I__/g, i).replace(/__N__/g, rows.children.length + 1);
      rows.insertAdjacentHTML("beforeend", html);
      renumber();
      var input = document.getElementById("child" + i + "_name");
      if (typeof wanted !== "number") input.focus();
      return input;
    }
    // a draft being filled in again asks for the child rows it had
    form.addEventListener("dolbom:need-field", function (e) {
      var m = /^child(\d+)_/.exec(e.detail);
      if (m && !document.getElementById("child" + m[1] + "_name")) addRow(parseInt(m[1], 10));
    });
    document.getElementById("add-child").addEventListener("click", function () { addRow(); });
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

  function signInUrl(renew) {
    var here = location.pathname + location.search;
    return "/console/login?next=" + encodeURIComponent(here) + (renew ? "&renew=1" : "");
  }

  function sessionWarning() {
    var ends = Date.parse(document.body.getAttribute("data-session-ends") || "");
    var main = document.getElementById("main");
    if (!ends || !main) return;
    var shown = null;
    function check() {
      var left = (ends - serverNow()) / 1000;
      if (left > 600) return;
      if (!shown) {
        shown = document.createElement("div");
        shown.id = "session-warning";
        shown.className = "card warn";
        shown.setAttribute("role", "alert");
        main.insertBefore(shown, main.firstChild);
      }
      var hm = new Date(ends).toLocaleTimeString("ko-KR", { timeZone: "Asia/Seoul", hour: "2-digit", minute: "2-digit", hour12: false });
      shown.textContent = left > 0
        ? "로그인이 " + Math.max(1, Math.ceil(left / 60)) + "분 뒤(" + hm + ")에 끝납니다. 작성 중인 내용은 이 탭에 보관되어 다시 로그인하면 그대로 채워집니다."
        : "로그인 시간이 끝났습니다. 작성 중인 내용은 이 탭에 보관되어 있으니 다시 로그인해 이어서 하세요.";
      var link = document.createElement("a");
      link.className = "button small";
      link.href = signInUrl(true);
      link.textContent = left > 0 ? "지금 다시 로그인(시간 연장)" : "다시 로그인";
      shown.appendChild(link);
    }
    check();
    setInterval(check, 15000);
  }

  // --- drafts --------------------------------------------------------------------------------------
  var PREFIX = "dolbom.draft:", SENT = "dolbom.sent", RESTORE = "dolbom.restore";
  var store = null;
  try { store = window.sessionStorage; } catch (e) { store = null; }

  function keyOf(form) { return PREFIX + form.getAttribute("action"); }
  function fieldsOf(form) {
    return Array.prototype.filter.call(form.elements, function (el) {
      return el.name && !el.disabled && !el.hasAttribute("data-no-draft") && el.type !== "submit" && el.type !== "button";
    });
  }
  function saveDraft(form) {
    var data = {};
    fieldsOf(form).forEach(function (el) {
      if (el.type === "checkbox") data[el.name] = el.checked;
      else if (el.type === "radio") { if (el.checked) data[el.name] = el.value; }
      else data[el.name] = el.value;
    });
    try { store.setItem(keyOf(form), JSON.stringify(data)); } catch (e) { /* full or disabled: nothing kept */ }
  }
  function blank(form) {
    return fieldsOf(form).every(function (el) {
      return el.type === "hidden" || el.type === "checkbox" || el.type === "radio" || el.tagName === "SELECT" || !el.value.trim();
    });
  }
  function fill(form, data) {
    Object.keys(data).forEach(function (name) {
      if (!form.elements[name]) form.dispatchEvent(new CustomEvent("dolbom:need-field", { detail: name }));
      var field = form.elements[name];
      if (!field) return;
      var list = field.length !== undefined && !field.tagName ? Array.prototype.slice.call(field) : [field];
      list.forEach(function (el) {
        if (el.hasAttribute("data-no-draft")) return;
        if (el.type === "checkbox") el.checked = !!data[name];
        else if (el.type === "radio") el.checked = el.value === data[name];
        else el.value = data[name];
        el.dispatchEvent(new Event("change", { bubbles: true }));  // e.g. the caller panel looks the number up
      });
    });
    var details = form.querySelector("details");
    if (details && Array.prototype.some.call(details.querySelectorAll("input, textarea, select"), function (el) {
      return (el.type === "checkbox" && el.checked) || (el.tagName === "TEXTAREA" && el.value);
    })) details.open = true;
  }
  function forgetAll() {
    for (var i = store.length - 1; i >= 0; i--) {
      var k = store.key(i);
      if (k && k.indexOf("dolbom.") === 0) store.removeItem(k);
    }
  }
  function notice(form, afterSignIn) {
    var box = document.createElement("div");
    box.id = "draft-restored";
    box.className = "card ok";
    box.setAttribute("role", "status");
    box.textContent = afterSignIn
      ? "로그인 시간이 끝나 보내지 못한 내용을 다시 채웠습니다. 확인한 뒤 다시 보내 주세요."
      : "이 탭에서 입력하고 보내지 않은 내용을 다시 채웠습니다. 확인한 뒤 보내 주세요.";
    var clear = document.createElement("button");
    clear.type = "button";
    clear.className = "small";
    clear.textContent = "입력 내용 지우기";
    clear.addEventListener("click", function () { store.removeItem(keyOf(form)); location.reload(); });
    box.appendChild(clear);
    var anchor = form.parentNode.classList.contains("intake") ? form.parentNode : form;  // not inside the grid
    anchor.parentNode.insertBefore(box, anchor);
  }

  function drafts() {
    if (!store) return;
    var why = document.body.getAttribute("data-signin");
    if (why !== null) {  // the sign-in page
      if (why === "expired" || why === "renew" || why === "retry") {
        // a form sent as the sign-in ran out never reached the server: fill it in again after signing in
        var sent = store.getItem(SENT);
        if (sent) {
          var again = JSON.parse(store.getItem(RESTORE) || "[]");
          if (again.indexOf(sent) < 0) again.push(sent);
          store.setItem(RESTORE, JSON.stringify(again));
          store.removeItem(SENT);
        }
      } else {
        forgetAll();  // signed out (here or in another tab): nothing typed stays behind
      }
      return;
    }
    var restore = JSON.parse(store.getItem(RESTORE) || "[]");
    var sentKey = store.getItem(SENT);
    if (sentKey) {
      // the form was sent: the server kept it unless it answered on the form's own address with errors
      var failed = location.pathname === sentKey.slice(PREFIX.length) &&
                   document.querySelector("#form-errors, #action-errors, #errors, #error, [aria-invalid=true]");
      if (!failed) store.removeItem(sentKey);
      store.removeItem(SENT);
    }
    document.querySelectorAll("form[data-draft]").forEach(function (form) {
      var key = keyOf(form), kept = store.getItem(key), wanted = restore.indexOf(key) >= 0;
      if (kept && (wanted || blank(form))) {
        try { fill(form, JSON.parse(kept)); notice(form, wanted); } catch (e) { store.removeItem(key); }
      }
      if (wanted) restore.splice(restore.indexOf(key), 1);
      form.addEventListener("input", function () { saveDraft(form); });
      form.addEventListener("change", function () { saveDraft(form); });
      form.addEventListener("submit", function () { saveDraft(form); store.setItem(SENT, key); });
    });
    if (restore.length) store.setItem(RESTORE, JSON.stringify(restore)); else store.removeItem(RESTORE);
    document.querySelectorAll("form[data-forget-drafts]").forEach(function (form) {
      form.addEventListener("submit", forgetAll);
    });
  }

  function focusFirstProblem() {
    // a refused form: the first marked field gets the focus (the summary at the top names them all)
    var bad = document.querySelector("main [aria-invalid=true]");
    if (bad) bad.focus();
  }

  syncClock();
  tick();
  setInterval(tick, 1000);
  liveBoard();
  intake();
  drafts();
  sessionWarning();
  focusFirstProblem();
})();
