/* Delivery figures of a campaign that is sending: asks the site every few seconds and updates
 * the numbers in place; when the status changes (sent, paused, cancelled) it reloads the page
 * once so the buttons match. Without scripts the page still shows the figures of its load.
 */
(function () {
  "use strict";

  var box = document.querySelector("[data-poll]");
  if (!box || !window.fetch) {
    return;
  }
  var url = box.getAttribute("data-poll");
  var status = document.querySelector("[data-campaign-status]");
  var initial = status ? status.textContent.trim() : "";
  var format = new Intl.NumberFormat("en");

  function update(data) {
    var figures = data.figures || {};
    Object.keys(figures).forEach(function (key) {
      var cell = box.querySelector('[data-figure="' + key + '"]');
      if (cell) {
        cell.textContent = format.format(figures[key] || 0);
      }
    });
    if (data.status_label && data.status_label !== initial) {
      window.location.reload();
      return false;
    }
    return true;
  }

  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.json();
      })
      .then(function (data) {
        if (update(data)) {
          window.setTimeout(poll, 3000);
        }
      })
      .catch(function () {
        window.setTimeout(poll, 10000);
      });
  }

  window.setTimeout(poll, 3000);
})();
