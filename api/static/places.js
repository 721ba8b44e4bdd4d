/* 언제나 돌봄: the place combobox (WAI-ARIA 1.2 combobox pattern, list autocomplete). Any
   <input data-place-suggest="/places/suggest"> becomes one: as a 시·군·구 or 읍·면·동 name is typed
   (초성 too: ㅁㅌ → 매탄동) the server's suggestions open in a listbox under it.
   Keys: ↓/↑ move through the suggestions (↓ opens them), Enter takes the highlighted one, Escape closes
   the list (a second Escape clears the field), Tab leaves as typed. A click takes one too.
   Without this script the field is a plain text input and the server reads what was typed. */
(function () {
  "use strict";
  var count = 0;

  function enhance(input) {
    var n = ++count;
    var url = input.getAttribute("data-place-suggest");
    var list = document.createElement("ul");
    list.id = "place-options-" + n;
    list.className = "place-options";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", "지역 제안");
    list.hidden = true;
    var status = document.createElement("div");
    status.className = "sr-only";
    status.setAttribute("role", "status");
    status.setAttribute("aria-live", "polite");
    var chosen = document.createElement("div");
    chosen.className = "muted small-text place-chosen";
    chosen.id = "place-chosen-" + n;
    input.insertAdjacentElement("afterend", list);
    list.insertAdjacentElement("afterend", status);
    status.insertAdjacentElement("afterend", chosen);
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", list.id);
    input.setAttribute("autocomplete", "off");
    var described = input.getAttribute("aria-describedby");
    input.setAttribute("aria-describedby", (described ? described + " " : "") + chosen.id);

    var items = [], active = -1, timer = null, asked = "", controller = null;

    function open(yes) {
      list.hidden = !yes;
      input.setAttribute("aria-expanded", yes ? "true" : "false");
      if (!yes) highlight(-1);
    }
    function highlight(i) {
      active = i;
      Array.prototype.forEach.call(list.children, function (li, k) {
        li.setAttribute("aria-selected", k === i ? "true" : "false");
        li.classList.toggle("active", k === i);
      });
      if (i >= 0 && list.children[i]) {
        input.setAttribute("aria-activedescendant", list.children[i].id);
        list.children[i].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }
    function show(found) {
      items = found;
      list.textContent = "";
      found.forEach(function (p, k) {
        var li = document.createElement("li");
        li.id = list.id + "-" + k;
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", "false");
        li.textContent = p.name_ko;
        var en = document.createElement("span");
        en.className = "muted small-text";
        en.setAttribute("lang", "en");
        en.textContent = " " + p.name_en;
        li.appendChild(en);
        list.appendChild(li);
      });
      status.textContent = found.length ? "지역 제안 " + found.length + "개, 위아래 화살표로 고르세요" : "맞는 지역이 없습니다";
      // an answer that arrives after the person moved on (typed, then Tab) opens nothing behind them
      open(found.length > 0 && document.activeElement === input);
    }
    function take(i) {
      var p = items[i];
      if (!p) return;
      input.value = p.name_ko;
      chosen.textContent = "선택한 지역: " + p.name_ko + " (위도 " + p.lat.toFixed(4) + ", 경도 " + p.lon.toFixed(4) + ")";
      asked = p.name_ko;
      open(false);
      input.dispatchEvent(new Event("change", { bubbles: true }));
    }
    function ask() {
      var q = input.value.trim();
      if (q === asked) return;
      asked = q;
      chosen.textContent = "";
      if (!q) { show([]); status.textContent = ""; return; }
      if (controller) controller.abort();
      controller = window.AbortController ? new AbortController() : null;
      fetch(url + "?q=" + encodeURIComponent(q), { credentials: "same-origin", signal: controller && controller.signal })
        .then(function (r) { return r.ok ? r.json() : []; })
        .then(function (found) { if (input.value.trim() === q) show(found); })
        .catch(function () {});
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(ask, 120);
    });
    input.addEventListener("keydown", function (e) {
      var openNow = !list.hidden;
      if (e.key === "ArrowDown") {
        e.preventDefault();
        if (!openNow) { if (items.length) open(true); else { asked = ""; ask(); } if (!e.altKey && items.length) highlight(0); return; }
        highlight(active + 1 >= items.length ? 0 : active + 1);
      } else if (e.key === "ArrowUp") {
        if (!openNow) return;
        e.preventDefault();
        highlight(active <= 0 ? items.length - 1 : active - 1);
      } else if (e.key === "Enter") {
        if (openNow && active >= 0) { e.preventDefault(); take(active); }
      } else if (e.key === "Escape") {
        if (openNow) { e.preventDefault(); open(false); }
        else if (input.value) { e.preventDefault(); input.value = ""; asked = ""; chosen.textContent = ""; }
      }
    });
    input.addEventListener("blur", function () { setTimeout(function () { open(false); }, 150); });
    // mousedown, not click: the input keeps the focus (and the keyboard user's place)
    list.addEventListener("mousedown", function (e) {
      var li = e.target.closest("[role=option]");
      if (!li) return;
      e.preventDefault();
      take(Array.prototype.indexOf.call(list.children, li));
    });
  }

  document.querySelectorAll("input[data-place-suggest]").forEach(enhance);
})();
