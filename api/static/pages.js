/* 언제나 돌봄: what every page's markup asks for, from a file because the Content-Security-Policy allows no
   inline script or on*= handler (api/security_headers.py):
   - <form data-confirm="…">: asks before sending (the parent's 신청 취소)
   - <button data-print>: prints the page (the console's printable pages) */
(function () {
  "use strict";
  document.addEventListener("submit", function (e) {
    var question = e.target.getAttribute && e.target.getAttribute("data-confirm");
    if (question && !window.confirm(question)) e.preventDefault();
  });
  document.addEventListener("click", function (e) {
    if (e.target.closest && e.target.closest("[data-print]")) window.print();
  });
})();
