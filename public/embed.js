/*
 * livequeue embed loader: paste into a shop's page, get the queue widget in an iframe that
 * keeps its height right and tells the page what happens. No dependencies, no build step.
 *
 *   <div id="queue"></div>
 *   <script src="https://queue.example.com/embed.js" data-experience="spring-drop"
 *           data-target="#queue" async></script>
 *
 * The contract (data attributes, URL parameters, messages, events) is docs/EMBEDDING.md's.
 */
(function () {
  "use strict";
  // `currentScript` is this element while a classic script runs, async or not; it is
  // null only in a module or a callback, which this file never is.
  var script = document.currentScript;
  if (!script) return;
  var data = script.dataset;
  // The widget lives where this file was loaded from: no origin to configure twice.
  var origin = new URL(script.src, location.href).origin;

  // The widget's configuration travels in its query ...
  var query = new URLSearchParams();
  query.set("experience", data.experience || "");
  query.set("parentOrigin", location.origin);
  ["locale", "theme", "accent", "transport", "join", "api"].forEach(function (name) {
    if (data[name]) query.set(name, data[name]);
  });
  // ... and a shopper the page already joined in its fragment, which browsers never send
  // to a server (so it reaches no access log, proxy or Referer).
  var fragment = "";
  if (data.consumerId && data.token) {
    fragment = "#consumerId=" + encodeURIComponent(data.consumerId) +
      "&token=" + encodeURIComponent(data.token);
  }

  var iframe = document.createElement("iframe");
  iframe.src = origin + "/?" + query.toString() + fragment;
  iframe.title = data.title || "Virtual queue";
  // Through the CSSOM, not a `style` attribute: a shop whose own CSP forbids inline
  // styles still gets a borderless, full-width frame.
  iframe.style.border = "0";
  iframe.style.width = "100%";
  iframe.style.display = "block";
  iframe.style.overflow = "hidden";
  iframe.setAttribute("scrolling", "no");

  function post(type) {
    // Only ever to the widget's origin: a frame navigated elsewhere gets nothing.
    if (iframe.contentWindow) {
      iframe.contentWindow.postMessage({ source: "livequeue", type: type }, origin);
    }
  }
  // The page's handle on its queue: `document.querySelector("#queue iframe").livequeue.join()`.
  iframe.livequeue = { origin: origin, join: function () { post("join"); } };

  window.addEventListener("message", function (event) {
    // From this widget only: its origin, its window, its vocabulary.
    var message = event.data;
    if (event.origin !== origin || event.source !== iframe.contentWindow ||
        !message || message.source !== "livequeue") return;
    if (message.type === "resize") {
      var height = Number(message.height);
      if (height > 0 && height < 100000) iframe.style.height = Math.ceil(height) + "px";
    } else if (/^(ready|position|admitted)$/.test(message.type)) {
      iframe.dispatchEvent(new CustomEvent("livequeue:" + message.type, {
        bubbles: true,
        detail: message
      }));
    }
  });

  var target = data.target && document.querySelector(data.target);
  if (target) {
    target.appendChild(iframe);
  } else {
    script.parentNode.insertBefore(iframe, script);
  }
})();
