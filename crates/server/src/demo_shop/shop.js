// The demo shop's own script: it reacts to the queue widget's `livequeue:*` events, which
// embed.js dispatches on the widget's iframe and which bubble up to the document.
"use strict";

document.addEventListener("DOMContentLoaded", function () {
  var status = document.getElementById("queue-status");
  var button = document.getElementById("queue-now");
  var say = function (text) { status.textContent = text; };

  // 1st, 2nd, 3rd, 4th … 11th, 12th, 13th … 21st.
  function ordinal(n) {
    var tens = n % 100, ones = n % 10;
    var suffix = tens >= 11 && tens <= 13 ? "th" : ones === 1 ? "st" : ones === 2 ? "nd" : ones === 3 ? "rd" : "th";
    return n.toLocaleString("en") + suffix;
  }

  document.addEventListener("livequeue:ready", function () {
    say("The queue is open: press Queue now to take your place.");
  });
  document.addEventListener("livequeue:position", function (event) {
    var position = event.detail.position;
    if (typeof position !== "number") return;
    button.hidden = true;
    say(position === 1
      ? "You're next: we'll keep this page updated."
      : "You are " + ordinal(position) + " in line: we'll keep this page updated.");
  });
  document.addEventListener("livequeue:admitted", function () {
    button.hidden = true;
    say("It's your turn! Check out in the queue box before your time runs out.");
  });

  button.addEventListener("click", function () {
    var frame = document.querySelector("#queue iframe");
    if (frame && frame.livequeue) frame.livequeue.join();
  });
});
