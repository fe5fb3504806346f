/* Inside the testimonials widget: tell the page that frames it how tall the stories are, so
 * testimonials-widget.js can size the iframe. The height is all it says, to anyone. */
(function () {
  "use strict";

  if (window.parent === window) {
    return;
  }
  var last = 0;

  function report() {
    var height = Math.ceil(document.documentElement.getBoundingClientRect().height);
    if (height !== last) {
      last = height;
      window.parent.postMessage({ type: "preceptor-testimonials-height", height: height }, "*");
    }
  }

  report();
  window.addEventListener("load", report);
  if (window.ResizeObserver) {
    new ResizeObserver(report).observe(document.body);
  }
})();
