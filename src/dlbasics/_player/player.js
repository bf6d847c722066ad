// dlbasics.anim player. Every animation carries this script; it starts each
// figure.dlbasics-anim that is not started yet, so many animations (or a
// repeated output) share nothing: no globals, no element ids. It starts its own
// figure at once (document.currentScript) and scans the page again after the
// output is attached (Jupyter may run it before the output is in the document).
// Keyboard and screen readers: the controls are native buttons and a range input;
// the slider's aria-valuetext says the frame and its epoch line, and a polite live
// region (.dla-live) says where a step or a pause lands (not every frame while
// playing). The player never starts by itself (prefers-reduced-motion or not): it
// plays only when the reader presses Play.
(function () {
  function once(fig) {
    // start only a figure parsed to its end (its player script is there), so
    // the frame data above that script is complete
    if (fig.getAttribute("data-dla-ready") || !fig.querySelector("script.dla-player")) return;
    fig.setAttribute("data-dla-ready", "1");
    start(fig);
  }
  function scan() {
    var figs = document.querySelectorAll("figure.dlbasics-anim:not([data-dla-ready])");
    for (var i = 0; i < figs.length; i++) once(figs[i]);
  }
  var me = document.currentScript, own = me && me.parentNode;
  if (own && own.classList && own.classList.contains("dlbasics-anim")) once(own);
  scan();
  setTimeout(scan, 0);
  setTimeout(scan, 500);
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", scan);
  function start(fig) {
    var q = function (s) { return fig.querySelector(s); };
    var D = JSON.parse(q("script.dla-data").textContent), n = D.frames.length;
    var stage = q(".dla-stage");
    // Two panels (the fit left, the loss surface right, split at half the image width):
    // each goes into a view of its own, side by side on a wide screen, one under the
    // other on a narrow one (player.css). The second view is a copy of the stage that
    // screen readers skip; every step draws in both.
    if (stage.querySelector(".dla-path")) {
      var view = document.createElement("div"), copy;
      view.className = "dla-view";
      stage.parentNode.insertBefore(view, stage);
      view.appendChild(stage);
      copy = view.cloneNode(true);
      copy.className = "dla-view dla-view-right";
      copy.setAttribute("aria-hidden", "true");
      copy.firstChild.removeAttribute("role");
      copy.firstChild.removeAttribute("aria-label");
      copy.querySelector("img").setAttribute("alt", "");
      view.parentNode.insertBefore(copy, view.nextSibling);
      fig.classList.add("dla-two");
    }
    var overlays = fig.querySelectorAll(".dla-overlay");
    var status = q(".dla-status"), slider = q(".dla-slider"), counter = q(".dla-counter");
    var play = q(".dla-play"), live = q(".dla-live"), k = 0, timer = null;
    // one run: its fitted curve, and its path up to record position pos; the
    // first run's elements sit directly in the overlay, a compared run's in a
    // g.dla-more of its own
    function draw(root, fitd, path, pos, color) {
      var kids = function (s) { return root.querySelectorAll(":scope > " + s); };
      var fit = kids(".dla-fit")[0], lines = kids(".dla-path");
      var dots = kids(".dla-dots")[0], now = kids(".dla-now")[0], d = "", c = "", j, p;
      if (fit) fit.setAttribute("d", fitd);
      if (!lines.length) return;
      for (j = 0; j <= pos && j < path.length; j++) {
        p = path[j];
        if (!p) continue;
        d += (d ? "L" : "M") + p[0] + "," + p[1];
        c += "M" + p[0] + "," + p[1] + "h0";
      }
      for (j = 0; j < lines.length; j++) lines[j].setAttribute("d", d);
      dots.setAttribute("d", c);
      p = path[pos];
      now.setAttribute("visibility", p ? "visible" : "hidden");
      if (p) {
        now.setAttribute("cx", p[0]);
        now.setAttribute("cy", p[1]);
        now.setAttribute("fill", p[2] ? "none" : color);
      }
    }
    function where() { return "Frame " + (k + 1) + " of " + n + ": " + D.frames[k][0]; }
    function say(text) { if (live) live.textContent = text; }
    function show(i) {
      k = Math.max(0, Math.min(n - 1, i));
      var f = D.frames[k], j, v, R, more;
      status.textContent = f[0];
      slider.setAttribute("aria-valuetext", where());
      stage.setAttribute("aria-label", D.label + ". " + f[0]);
      for (v = 0; v < overlays.length; v++) {
        draw(overlays[v], f[1], D.path, f[2], D.point);
        more = overlays[v].querySelectorAll(".dla-more");
        for (j = 0; j < more.length; j++) {
          R = D.more[j];
          draw(more[j], R.frames[k][0], R.path, R.frames[k][1], R.color);
        }
      }
      slider.value = k;
      counter.textContent = (k + 1) + " / " + n;
    }
    function pause() {
      if (timer) { clearInterval(timer); timer = null; say("Paused. " + where()); }
      play.innerHTML = D.icons.play;
      play.setAttribute("aria-label", "Play");
      play.setAttribute("title", "Play");
    }
    function run() {
      if (k >= n - 1) show(0);
      play.innerHTML = D.icons.pause;
      play.setAttribute("aria-label", "Pause");
      play.setAttribute("title", "Pause");
      say("Playing");
      timer = setInterval(function () {
        if (k >= n - 1) { pause(); return; }
        show(k + 1);
      }, D.interval);
    }
    function on(s, f) { q(s).addEventListener("click", f); }
    on(".dla-play", function () { if (timer) pause(); else run(); });
    function step(to) { return function () { pause(); show(to()); say(where()); }; }
    on(".dla-first", step(function () { return 0; }));
    on(".dla-prev", step(function () { return k - 1; }));
    on(".dla-next", step(function () { return k + 1; }));
    on(".dla-last", step(function () { return n - 1; }));
    slider.addEventListener("input", function () { pause(); show(+slider.value); });
    q(".dla-controls").hidden = false;
    show(0);
  }
})();
