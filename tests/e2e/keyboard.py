"""Helpers for browser tests that go by keyboard and take screenshots to look at."""
from __future__ import annotations

from pathlib import Path

SHOTS = Path("/tmp/shots")

# Whether the focused element shows that it has the focus: an outline or a ring (box-shadow)
# drawn by :focus-visible, on itself or, for a control drawn by its label, on that label.
VISIBLE_FOCUS = """() => {
    const el = document.activeElement;
    if (!el || el === document.body) return false;
    const shows = (node) => {
        const style = getComputedStyle(node);
        return (style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0) || style.boxShadow !== "none";
    };
    return shows(el) || (el.labels && Array.prototype.some.call(el.labels, shows));
}"""


def has_visible_focus(page) -> bool:
    return page.evaluate(VISIBLE_FOCUS)


def focus_description(page) -> str:
    return page.evaluate("""() => { const el = document.activeElement;
        return el ? el.outerHTML.slice(0, 160) : "nothing"; }""")


def tab_to(page, target, limit: int = 80) -> int:
    """Press Tab, from wherever the focus is, until `target` (a locator) has it; every element
    the focus passes on the way must show it (visible focus). Returns the number of presses."""
    for presses in range(1, limit + 1):
        page.keyboard.press("Tab")
        assert has_visible_focus(page), f"no visible focus on {focus_description(page)}"
        if target.evaluate("el => el === document.activeElement"):
            return presses
    raise AssertionError(f"{target} was not reached in {limit} Tab presses")


def shot(page, name: str, full_page: bool = True) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full_page)
