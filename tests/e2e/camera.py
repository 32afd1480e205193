"""The one way a browser test or screenshot script photographs a page: at both sizes
(1280x800 and 390x844) the page is checked by axe-core (accessibility.py) for serious and
critical violations, for fields whose edges are too faint to find (SC 1.4.11, which axe
does not check) and for a layout wider than the window (a phone user would scroll
sideways), and the screenshot is written. Every page that has a screenshot in
docs/screenshots went through here, so none is shown without having been checked.

A script keeps one Camera for its tour and calls `camera.verify()` at the end: every
finding of every page, in one AssertionError.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import Page

from tests.e2e import accessibility

SIZES: dict[str, dict[str, int]] = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}


@dataclass
class Camera:
    output: Path
    problems: dict[str, str] = field(default_factory=dict)
    written: list[Path] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.output.mkdir(parents=True, exist_ok=True)

    def shoot(self, page: Page, name: str, *, save: tuple[str, ...] = tuple(SIZES), full_page: bool = True) -> None:
        """Check the page at both sizes; write <name>-<size>.png for each size in `save`.

        The sizes saved come first, starting from the window's own size when it is one of
        them (a page opened scrolled to an anchor is photographed before any resize moves
        it); the window is put back to its size afterwards.
        """
        before = page.viewport_size
        order = sorted(SIZES, key=lambda label: (label not in save, SIZES[label] != before))
        for label in order:
            viewport = SIZES[label]
            if page.viewport_size != viewport:
                page.set_viewport_size(viewport)  # type: ignore[arg-type]
            if label in save:
                path = self.output / f"{name}-{label}.png"
                page.screenshot(path=str(path), full_page=full_page)
                self.written.append(path)
            self._check(page, f"{name} at {label}", viewport["width"])
        if before is not None and page.viewport_size != before:
            page.set_viewport_size(before)

    def shoot_as(self, page: Page, filename: str) -> None:
        """A desktop screenshot under a name of its own (login.png); checked at both sizes."""
        self.shoot(page, filename.removesuffix(".png"), save=())
        path = self.output / filename
        before = page.viewport_size
        page.set_viewport_size(SIZES["desktop"])  # type: ignore[arg-type]
        page.screenshot(path=str(path), full_page=True)
        if before is not None:
            page.set_viewport_size(before)
        self.written.append(path)

    def _check(self, page: Page, where: str, width: int) -> None:
        self.checked.append(where)
        found = accessibility.violations(page)
        notes = [accessibility.describe(found)] if found else []
        faint = accessibility.weak_field_edges(page)
        if faint:
            notes.append(f"field edges below 3:1 (WCAG 2.2 SC 1.4.11): {faint}")
        wide = page.evaluate("() => document.documentElement.scrollWidth")
        if wide > width:
            culprits = page.evaluate(OVERFLOWING, width)
            notes.append(f"the page is {wide} px wide in a {width} px window: {culprits}")
        if notes:
            self.problems[where] = "\n".join(notes)

    def verify(self) -> None:
        assert not self.problems, "\n\n".join(f"{where}:\n{what}" for where, what in self.problems.items())


# The outermost elements that reach past the window's right edge, for the message.
OVERFLOWING = """width => {
  const out = [];
  for (const el of document.body.querySelectorAll('*')) {
    if (el.getBoundingClientRect().right > width + 1 && !(el.parentElement && el.parentElement.getBoundingClientRect().right > width + 1)) {
      out.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\\s+/).join('.') : ''));
    }
  }
  return out.slice(0, 5);
}"""
