/* The reader's time zone for tutoring pages: the browser knows it, the server does not.
 *
 * A page that shows times marks itself with data-detect-zone when its address has no ?tz=;
 * this script reloads it once with the browser's IANA zone. Without scripts the page keeps
 * UTC and offers a time-zone select, so nothing depends on this file.
 */
(function () {
  "use strict";

  var marker = document.querySelector("[data-detect-zone]");
  if (!marker) {
    return;
  }
  var zone = "";
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
  } catch (error) {
    return;
  }
  var params = new URLSearchParams(window.location.search);
  if (!zone || params.has("tz")) {
    return;
  }
  params.set("tz", zone);
  window.location.replace(window.location.pathname + "?" + params.toString() + window.location.hash);
})();
