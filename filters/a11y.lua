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
2. The home page's category filter (margin sidebar, written by Quarto's listing after
   pandoc has run): its entries are <div>s with a click handler. The script makes them
   buttons too (role="button", tabindex="0", Enter/Space, aria-pressed on the active one).
3. Scrolling regions: a <pre> (or a code block's div.sourceCode) whose content is wider
   or taller than its box scrolls, even by one pixel, and keyboard users can scroll it
   only if it can take focus. Whether it scrolls depends on the window's width, so the
   script gives tabindex="0" to exactly the blocks that scroll now, and again after a
   resize, when a solution opens or when the fonts have loaded.
4. Phones (issue 24): no page scrolls sideways. Every table is wrapped in a
   div.table-scroll and display math (KaTeX's .katex-display) scrolls sideways in its own
   box (theme-a11y.scss); the script treats those boxes as in 3 when they are wider than
   the column.
]]

local SCRIPT = [[
<script>
/* a11y.lua: keyboard for collapsible callouts and the category filter; focusable
   scrolling code, math and tables (issues 20, 24) */
(function () {
  var CATEGORY = ".quarto-listing-category .category";
  var KEYED = '.callout-header[role="button"][data-bs-toggle="collapse"], ' + CATEGORY;
  document.addEventListener("keydown", function (e) {
    var el = e.target;
    if (!el.matches || !el.matches(KEYED)) return;
    if (e.key === "Enter" || e.key === " ") { e.preventDefault(); el.click(); }
  });
  function categories() {
    var cats = document.querySelectorAll(CATEGORY);
    for (var i = 0; i < cats.length; i++) {
      cats[i].setAttribute("role", "button");
      cats[i].setAttribute("tabindex", "0");
      cats[i].setAttribute("aria-pressed", cats[i].classList.contains("active") ? "true" : "false");
    }
  }
  document.addEventListener("click", function (e) {
    if (e.target.closest && e.target.closest(CATEGORY)) categories();
  });
  function scrollables() {
    var pres = document.querySelectorAll("pre, div.sourceCode, .katex-display, .table-scroll");
    for (var i = 0; i < pres.length; i++) {
      var p = pres[i];
      var code = p.matches("pre, div.sourceCode");  /* the others scroll sideways only */
      var scrolls = p.scrollWidth > p.clientWidth || (code && p.scrollHeight > p.clientHeight);
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
  categories();
  scrollables();
  window.addEventListener("load", function () { categories(); scrollables(); });
  if (document.fonts) document.fonts.ready.then(scrollables);
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

-- 4. A table scrolls sideways in its own box when it is wider than the column.
function Table(tbl)
  return pandoc.Div({ tbl }, pandoc.Attr("", { "table-scroll" }))
end

function Pandoc(doc)
  if quarto.doc.is_format("html") then
    quarto.doc.include_text("after-body", SCRIPT)
  end
  return doc
end
