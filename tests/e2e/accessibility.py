"""axe-core (npm, tests/e2e/rp/package.json) run inside a page: the WCAG 2.0-2.2 A and AA
rules and axe's best practices. Tessera's pages forbid scripts by CSP; the checker is
evaluated through the DevTools protocol, which CSP does not govern, so the page under test
is the page as served.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from playwright.sync_api import Page

AXE = Path(__file__).resolve().parent / "rp" / "node_modules" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
SERIOUS = ("serious", "critical")


@lru_cache(maxsize=1)
def _source() -> str:
    if not AXE.exists():
        raise RuntimeError(f"{AXE} is missing: run `npm ci --prefix tests/e2e/rp` (make test does)")
    return AXE.read_text()


def violations(page: Page) -> list[dict[str, Any]]:
    """The serious and critical violations on the page as it is now."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(_source() + "\n;0")
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})", TAGS
    )
    return [v for v in result["violations"] if v.get("impact") in SERIOUS]


def describe(found: list[dict[str, Any]]) -> str:
    lines = []
    for violation in found:
        targets = [", ".join(node["target"]) for node in violation["nodes"][:5]]
        lines.append(f"{violation['impact']} {violation['id']}: {violation['help']} at {targets}")
    return "\n".join(lines)


# What axe leaves to people: WCAG 2.2 SC 1.4.11 for the edges of fields (a field's border,
# or failing that its fill, against what is around it: 3:1), and SC 2.4.7 for the focus
# ring (an outline or a box-shadow, 3:1 against the background, not cut off by a
# scrolling or clipping ancestor). Colours are the computed ones; a translucent colour is
# laid over the background first.
_COLOURS = """
const parse = c => { const m = c.match(/rgba?\\(([^)]+)\\)/); if (!m) return null;
  const p = m[1].split(/[ ,\\/]+/).filter(Boolean).map(Number); return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1]; };
const over = (top, under) => top[3] >= 1 ? top : [0, 1, 2].map(i => top[i] * top[3] + under[i] * (1 - top[3])).concat([1]);
const background = el => { const stack = [];
  for (let e = el; e; e = e.parentElement) { const c = parse(getComputedStyle(e).backgroundColor); if (c && c[3] > 0) { stack.push(c); if (c[3] >= 1) break; } }
  let colour = [255, 255, 255, 1]; for (const c of stack.reverse()) colour = over(c, colour); return colour; };
const luminance = c => { const [r, g, b] = c.slice(0, 3).map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
const contrast = (a, b) => { const [x, y] = [luminance(a), luminance(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
const name = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.name ? '[name=' + el.name + ']' : '');
"""

WEAK_FIELD_EDGES = (
    "() => {"
    + _COLOURS
    + """
  const out = [];
  for (const el of document.querySelectorAll('input, select, textarea')) {
    if (['hidden', 'checkbox', 'radio', 'submit', 'button', 'image', 'reset'].includes(el.type)) continue;
    const box = el.getBoundingClientRect(); if (!box.width || !box.height) continue;
    const style = getComputedStyle(el); if (style.visibility === 'hidden') continue;
    const around = background(el.parentElement);
    const fill = over(parse(style.backgroundColor) || [0, 0, 0, 0], around);
    const border = parseFloat(style.borderTopWidth) > 0 ? over(parse(style.borderTopColor), around) : fill;
    const best = Math.max(contrast(border, around), contrast(fill, around));
    if (best < 3) out.push(name(el) + ': ' + best.toFixed(2) + ':1');
  }
  return out;
}"""
)

FOCUS_RING = (
    "() => {"
    + _COLOURS
    + """
  const el = document.activeElement;
  if (!el || el === document.body) return {element: null};
  const style = getComputedStyle(el);
  const around = background(el.parentElement);
  let ring = null, reach = 0;
  if (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0) {
    ring = over(parse(style.outlineColor), around);
    reach = Math.max(0, parseFloat(style.outlineWidth) + parseFloat(style.outlineOffset));
  } else if (style.boxShadow && style.boxShadow !== 'none') {
    const m = style.boxShadow.match(/rgba?\\([^)]+\\)/); ring = m ? over(parse(m[0]), around) : null;
  }
  const box = el.getBoundingClientRect();
  let clipped = null;
  for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
    const s = getComputedStyle(a);
    if (s.overflowX === 'visible' && s.overflowY === 'visible') continue;
    const r = a.getBoundingClientRect();
    if (box.left - reach < r.left - 0.5 || box.right + reach > r.right + 0.5 || box.top - reach < r.top - 0.5 || box.bottom + reach > r.bottom + 0.5) { clipped = name(a) + '.' + a.className; break; }
  }
  return {element: name(el) + (el.innerText ? ' "' + el.innerText.trim().slice(0, 30) + '"' : ''),
          ring: ring !== null, contrast: ring ? contrast(ring, around) : 0, clipped,
          visible: box.width > 0 && box.height > 0 && box.bottom > 0 && box.right > 0 && box.left < innerWidth};
}"""
)


def weak_field_edges(page: Page) -> list[str]:
    """Fields whose edge is below 3:1 against their surroundings (SC 1.4.11)."""
    found: list[str] = page.evaluate(WEAK_FIELD_EDGES)
    return found


def focus_ring(page: Page) -> dict[str, Any]:
    """The focused element and its ring: whether there is one, its contrast, what clips it."""
    found: dict[str, Any] = page.evaluate(FOCUS_RING)
    return found
