/* Preceptor student stories for any web page.
 *
 *   <script src="https://<preceptor site>/testimonials/widget.js" defer></script>
 *   <div data-preceptor-testimonials data-program="tutoring" data-limit="3"></div>
 *
 * Every such div gets an iframe of the widget page from the site this script came from
 * (data-program and data-limit are optional). The widget tells its height, so the frame fits.
 */
(function () {
  "use strict";

  var HEIGHT_MESSAGE = "preceptor-testimonials-height";
  var script = document.currentScript;
  if (!script || !script.src) {
    return;
  }
  var origin = new URL(script.src, window.location.href).origin;
  var frames = [];

  function embed(holder) {
    if (holder.getAttribute("data-preceptor-embedded") !== null) {
      return;
    }
    var params = new URLSearchParams();
    var program = holder.getAttribute("data-program");
    var limit = holder.getAttribute("data-limit");
    if (program) {
      params.set("program", program);
    }
    if (limit) {
      params.set("limit", limit);
    }
    var query = params.toString();
    var frame = document.createElement("iframe");
    frame.src = origin + "/testimonials/widget" + (query ? "?" + query : "");
    frame.title = "Student stories from Preceptor";
    frame.loading = "lazy";
    frame.setAttribute("referrerpolicy", "strict-origin-when-cross-origin");
    frame.style.width = "100%";
    frame.style.height = "360px";
    frame.style.border = "0";
    frame.style.display = "block";
    holder.setAttribute("data-preceptor-embedded", "");
    while (holder.firstChild) {
      holder.removeChild(holder.firstChild);
    }
    holder.appendChild(frame);
    frames.push(frame);
  }

  function embedAll() {
    var holders = document.querySelectorAll("div[data-preceptor-testimonials]");
    for (var i = 0; i < holders.length; i += 1) {
      embed(holders[i]);
    }
  }

  window.addEventListener("message", function (event) {
    var data = event.data;
    if (event.origin !== origin || !data || data.type !== HEIGHT_MESSAGE) {
      return;
    }
    var height = Math.min(Math.max(parseInt(data.height, 10) || 0, 80), 5000);
    for (var i = 0; i < frames.length; i += 1) {
      if (frames[i].contentWindow === event.source) {
        frames[i].style.height = height + "px";
      }
    }
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", embedAll);
  } else {
    embedAll();
  }
})();
