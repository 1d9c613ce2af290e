"""Markdown -> HTML -> bleach. The only place that decides which HTML a user may produce."""
from __future__ import annotations

import html
import re
from functools import partial

import bleach
from bleach.linkifier import LinkifyFilter
from markdown_it import MarkdownIt

ALLOWED_TAGS = frozenset({
    "p", "br", "hr", "strong", "em", "del", "s", "code", "pre", "blockquote",
    "ul", "ol", "li", "a", "h3", "h4", "h5", "h6",
    "table", "thead", "tbody", "tr", "th", "td",
})
ALLOWED_ATTRIBUTES = {
    "a": ["href", "title", "rel"],
    "ol": ["start"],
    "th": ["align"],
    "td": ["align"],
}
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})
LINK_REL = "nofollow ugc noopener"

# Raw HTML in the source is shown as text, never passed through; bleach is the second wall.
# Posts are written like chat messages, where a new line is a new line; briefs are
# documents whose paragraphs may be hard-wrapped.
_markdown = MarkdownIt("commonmark", {"html": False, "breaks": True}).enable(["table", "strikethrough"])
_markdown_document = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])


def _set_rel(attrs, new=False):
    href = attrs.get((None, "href"))
    if href is None:
        return attrs
    attrs[(None, "rel")] = LINK_REL
    return attrs


def _demote_headings(html: str) -> str:
    # A post sits under the page's h1/h2; its own headings start at h3.
    for level in (2, 1):
        html = html.replace(f"<h{level}>", f"<h{level + 2}>").replace(f"</h{level}>", f"</h{level + 2}>")
    return html


_cleaner = bleach.Cleaner(
    tags=ALLOWED_TAGS,
    attributes=ALLOWED_ATTRIBUTES,
    protocols=ALLOWED_PROTOCOLS,
    strip=True,
    filters=[partial(LinkifyFilter, callbacks=[_set_rel], skip_tags={"pre", "code"})],
)


def render_markdown(source: str, *, document: bool = False) -> str:
    """Render user Markdown to safe HTML (`document=True` for long texts such as briefs)."""
    renderer = _markdown_document if document else _markdown
    return _cleaner.clean(_demote_headings(renderer.render(source)))


def markdown_to_text(source: str) -> str:
    """Plain text of user Markdown (for excerpts, exports and notifications)."""
    return html.unescape(bleach.clean(_markdown.render(source), tags=set(), strip=True)).strip()


# Posts keep the HTML rendered when they were written (bleach's output: well-formed, every
# attribute in double quotes, "<" in text escaped), so stripping its tags is exact and about
# 200 times faster than rendering the Markdown again (which 50,000 posts cannot afford);
# `markdown_to_text` is for text that has no stored HTML.
_LINE_BREAK = re.compile(r"<br\s*/?>\n?")
_BLOCK_END = re.compile(r"</(?:p|h[1-6]|blockquote|pre|ul|ol|table)>\n?")
_LIST_ITEM = re.compile(r"<li(?:\s[^>]*)?>")
_CELL_END = re.compile(r"</t[hd]>")
_TAG = re.compile(r'<[^>"]*(?:"[^"]*"[^>"]*)*>')
_BLANK_LINES = re.compile(r"\n{3,}")


def html_to_text(body_html: str) -> str:
    """The text of a post's rendered HTML: paragraphs separated by a blank line, list items
    starting with "• ", no markup."""
    text = _LINE_BREAK.sub("\n", body_html)
    text = _BLOCK_END.sub("\n\n", text)
    text = _LIST_ITEM.sub("• ", text)
    text = _CELL_END.sub(" ", text)
    text = html.unescape(_TAG.sub("", text))
    return _BLANK_LINES.sub("\n\n", text).strip()
