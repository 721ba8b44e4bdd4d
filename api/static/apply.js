/* 언제나 돌봄: the parent's pages (api/templates/apply/). Every page works without it; this adds:
   - the error summary's links put the focus in the field (a fragment link alone only scrolls), with its
     label in view; and the first marked field takes the focus if the browser skipped autofocus
   - the status page keeps itself current: it asks /live for the changed parts (JSON) every few seconds,
     swaps them in without reloading the page, and says the new state in a polite live region. A form the
     parent is filling in is left alone until they are done. */
(function () {
  "use strict";

  function focusField(id) {
    var field = document.getElementById(id);
    if (!field) return false;
    var label = document.querySelector('label[for="' + id + '"]') || field;
    label.scrollIntoView({ block: "start" });
    field.focus({ preventScroll: true });
    return true;
  }

  document.addEventListener("click", function (e) {
    var link = e.target.closest && e.target.closest(".error-summary a[href^='#']");
    if (link && focusField(link.getAttribute("href").slice(1))) e.preventDefault();
  });

  function focusFirstInvalid() {
    var first = document.querySelector("[aria-invalid=true]");
    if (first && (!document.activeElement || document.activeElement === document.body)) focusField(first.id);
  }

  function keepCurrent() {
    var box = document.getElementById("live");
    if (!box) return;
    var url = box.getAttribute("data-live-url");
    var version = box.getAttribute("data-version");
    var poll = parseInt(box.getAttribute("data-poll"), 10) || 0;
    var actions = document.getElementById("actions");
    var announce = document.getElementById("announce");
    var typed = false, waiting = null; // the parent's input in the action forms; actions held back meanwhile
    if (actions) actions.addEventListener("input", function () { typed = true; });

    function parentBusy() {
      return typed || (actions && actions.contains(document.activeElement));
    }
    function swapActions() {
      if (waiting !== null && !parentBusy()) { actions.innerHTML = waiting; waiting = null; }
    }
    function ask() {
      fetch(url, { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } })
        .then(function (r) {
          if (r.status === 404) { poll = 0; throw new Error("gone"); }
          return r.json();
        })
        .then(function (news) {
          if (news.version !== version) {
            version = news.version;
            box.innerHTML = news.live;
            if (actions) { waiting = news.actions; swapActions(); }
            if (announce) announce.textContent = news.announce;
          } else if (actions) {
            swapActions();
          }
          poll = news.poll;
        })
        .catch(function () {})
        .then(function () { if (poll > 0) window.setTimeout(ask, poll * 1000); });
    }
    if (poll > 0) window.setTimeout(ask, poll * 1000);
  }

  function start() {
    focusFirstInvalid();
    keepCurrent();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
