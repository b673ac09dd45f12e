// Reloads a page that asks for it (<meta name="absensi-refresh" content="SECONDS">), only while it is shown.
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="absensi-refresh"]');
  var seconds = meta ? parseInt(meta.getAttribute("content"), 10) : 0;
  if (!(seconds > 0)) { return; }
  var due = Date.now() + seconds * 1000;
  setInterval(function () {
    if (document.visibilityState === "visible" && Date.now() >= due) { window.location.reload(); }
  }, 1000);
})();
