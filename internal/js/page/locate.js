/* Finds the element a real click or key press goes to, for Tab.Click and
   Tab.Type. Runs in an isolated world (Chromium) or a sandbox (Firefox) of
   the page, so the page's own scripts cannot change what it sees. With
   focus, it focuses the element (Type) instead of checking what covers it.

   Returns {x, y} (the centre of the element's first box, in CSS pixels of
   the viewport, after scrolling it into view), or {error} saying why there
   is nothing to click. */
(selector, focus) => {
  let el;
  try {
    el = document.querySelector(selector);
  } catch (e) {
    return { error: "is not a valid CSS selector (" + e.message + ")" };
  }
  if (!el) return { error: "matches no element" };
  const describe = (n) => {
    let s = n.localName || n.nodeName.toLowerCase();
    if (n.id) s += "#" + n.id;
    if (n.classList && n.classList.length) s += "." + Array.prototype.join.call(n.classList, ".");
    return s;
  };
  el.scrollIntoView({ block: "center", inline: "center", behavior: "instant" });
  const rects = el.getClientRects();
  const r = rects.length ? rects[0] : null;
  if (!r || r.width === 0 || r.height === 0) {
    return { error: "matches " + describe(el) + ", which has no box (it is not rendered, or has no size)" };
  }
  const x = r.left + r.width / 2, y = r.top + r.height / 2;
  if (focus) {
    el.focus();
    const active = document.activeElement;
    if (active !== el && !el.contains(active)) {
      return { error: "matches " + describe(el) + ", which cannot take the keyboard focus" };
    }
    return { x, y };
  }
  if (x < 0 || y < 0 || x >= innerWidth || y >= innerHeight) {
    return { error: "matches " + describe(el) + ", whose centre is outside the window even after scrolling" };
  }
  const hit = document.elementFromPoint(x, y);
  if (hit && hit !== el && !el.contains(hit)) {
    return { error: "matches " + describe(el) + ", which is covered by " + describe(hit) + " at its centre" };
  }
  return { x, y };
}
