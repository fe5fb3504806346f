/* The reader's time zone for every page that shows a time: the browser knows it, the server does not.
 *
 * Every page that loads this script leaves the browser's IANA zone in a "tz" cookie, so the
 * next page opened from a mail or a bookmark already answers on the reader's clock. A page
 * that shows times and does not know the zone yet marks itself with data-detect-zone; this
 * script reloads it once with ?tz=<zone>. Without scripts the page keeps UTC and offers a
 * time-zone select, so nothing depends on this file.
 */
(function () {
  "use strict";

  var zone = "";
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
  } catch (error) {
    return;
  }
  if (!zone) {
    return;
  }
  document.cookie = "tz=" + zone + "; path=/; max-age=31536000; SameSite=Lax";
  var marker = document.querySelector("[data-detect-zone]");
  if (!marker) {
    return;
  }
  var params = new URLSearchParams(window.location.search);
  if (params.has("tz")) {
    return;
  }
  params.set("tz", zone);
  window.location.replace(window.location.pathname + "?" + params.toString() + window.location.hash);
})();
