--[[
a11y.lua: accessibility fixes for markup that Quarto itself writes (issue 20).
Runs after Quarto has built its HTML structures (`at: post-render` in _quarto.yml).

1. Collapsible callouts (the exercises' solutions). Quarto's header is a plain <div>
   that Bootstrap toggles on click, carrying aria-expanded/aria-controls, which a
   <div> (role generic) may not have, and aria-label "Toggle callout", which would hide
   the title ("Solution") from screen readers. The header becomes a button for
   assistive technology: role="button" (so aria-expanded and aria-controls are valid
   and Bootstrap keeps aria-expanded up to date), tabindex="0" (reachable with Tab),
   no aria-label (its name is its title). The script below makes Enter and Space
   press it, as they press a native button.
2. Scrolling regions: a <pre> whose content is wider (or taller) than its box scrolls,
   and keyboard users can scroll it only if it can take focus. Whether it scrolls
   depends on the window's width, so the script gives tabindex="0" to exactly the
   <pre> elements that scroll now, and again after a resize or when a solution opens.
]]

local SCRIPT = [[
<script>
/* a11y.lua: keyboard for collapsible callouts; focusable scrolling <pre> (issue 20) */
(function () {
  var TOGGLE = '.callout-header[role="button"][data-bs-toggle="collapse"]';
  document.addEventListener("keydown", function (e) {
    var el = e.target;
    if (!el.matches || !el.matches(TOGGLE)) return;
    if (e.key === "Enter" || e.key === " ") { e.preventDefault(); el.click(); }
  });
  function scrollables() {
    var pres = document.querySelectorAll("pre");
    for (var i = 0; i < pres.length; i++) {
      var p = pres[i];
      var scrolls = p.scrollWidth > p.clientWidth + 1 || p.scrollHeight > p.clientHeight + 1;
      if (scrolls && !p.hasAttribute("tabindex")) {
        p.setAttribute("tabindex", "0");
        p.setAttribute("data-a11y-scroll", "");
      } else if (!scrolls && p.hasAttribute("data-a11y-scroll")) {
        p.removeAttribute("tabindex");
        p.removeAttribute("data-a11y-scroll");
      }
    }
  }
  var pending = null;
  function later() { clearTimeout(pending); pending = setTimeout(scrollables, 100); }
  scrollables();
  window.addEventListener("load", scrollables);
  window.addEventListener("resize", later);
  document.addEventListener("shown.bs.collapse", scrollables);
  document.addEventListener("shown.bs.tab", scrollables);
})();
</script>
]]

local function is_collapse_header(div)
  return div.classes:includes("callout-header") and div.attributes["bs-toggle"] == "collapse"
end

function Div(div)
  if not is_collapse_header(div) then
    return nil
  end
  div.attributes["role"] = "button"
  div.attributes["tabindex"] = "0"
  div.attributes["aria-label"] = nil
  return div
end

function Pandoc(doc)
  if quarto.doc.is_format("html") then
    quarto.doc.include_text("after-body", SCRIPT)
  end
  return doc
end
