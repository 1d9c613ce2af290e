"""Markdown -> HTML -> bleach. The only place that decides which HTML a user may produce."""
from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial

import bleach
from bleach.html5lib_shim import Filter
from bleach.linkifier import LinkifyFilter
from markdown_it import MarkdownIt

ALLOWED_TAGS = frozenset({
    "p", "br", "hr", "strong", "em", "del", "s", "code", "pre", "blockquote",
    "ul", "ol", "li", "a", "h3", "h4", "h5", "h6",
    "table", "thead", "tbody", "tr", "th", "td",
})
MENTION_CLASS = "mention"


def _link_attribute(tag: str, name: str, value: str) -> bool:
    # `class` only as a mention link's (`MentionFilter`): no other class reaches a page.
    return name in ("href", "title", "rel") or (name == "class" and value == MENTION_CLASS)


ALLOWED_ATTRIBUTES = {
    "a": _link_attribute,
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


@dataclass(frozen=True)
class MentionLinks:
    """Which `@handle`s of a text become links: `pattern` finds them (group 1 the handle),
    `hrefs` maps each existing handle, lower case, to its person's page. Handles not in
    `hrefs` stay text (forum.services.mentions resolves them)."""
    pattern: re.Pattern
    hrefs: Mapping[str, str]


class MentionFilter(Filter):
    """Turns `@handle` in text into `<a class="mention" href="...">@handle</a>`, never inside a
    link, a code span or a code block. It runs on the sanitised tree, before linkification (so
    a handle that looks like a domain, "@zhang.li", is a mention, not a link to zhang.li),
    and makes only what ALLOWED_TAGS and ALLOWED_ATTRIBUTES allow: cleaning its output again
    changes nothing (tests/test_rendering.py)."""

    SKIP = frozenset({"a", "code", "pre"})

    def __init__(self, source, links: MentionLinks):
        super().__init__(source)
        self.links = links

    def __iter__(self):
        inside = 0
        for token in super().__iter__():
            kind = token["type"]
            if kind in ("StartTag", "EndTag") and token["name"] in self.SKIP:
                inside += 1 if kind == "StartTag" else -1
            elif kind == "Characters" and not inside:
                yield from self._mentions(token["data"])
                continue
            yield token

    def _mentions(self, text: str):
        start = 0
        for match in self.links.pattern.finditer(text):
            handle = match.group(1).lower()
            href = self.links.hrefs.get(handle)
            if href is None:
                continue
            if match.start() > start:
                yield {"type": "Characters", "data": text[start:match.start()]}
            yield {"type": "StartTag", "name": "a", "namespace": None,
                   "data": {(None, "class"): MENTION_CLASS, (None, "href"): href}}
            yield {"type": "Characters", "data": "@" + handle}
            yield {"type": "EndTag", "name": "a", "namespace": None}
            start = match.end()
        if start < len(text):
            yield {"type": "Characters", "data": text[start:]}


def _make_cleaner(mentions: MentionLinks | None = None) -> bleach.Cleaner:
    filters = [partial(LinkifyFilter, callbacks=[_set_rel], skip_tags={"pre", "code"})]
    if mentions is not None:
        filters.insert(0, partial(MentionFilter, links=mentions))
    return bleach.Cleaner(tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, protocols=ALLOWED_PROTOCOLS,
                          strip=True, filters=filters)


_cleaner = _make_cleaner()


def render_markdown(source: str, *, document: bool = False, mentions: MentionLinks | None = None) -> str:
    """Render user Markdown to safe HTML (`document=True` for long texts such as briefs);
    with `mentions`, the existing handles it names become links to their people's pages."""
    renderer = _markdown_document if document else _markdown
    cleaner = _make_cleaner(mentions) if mentions is not None and mentions.hrefs else _cleaner
    return cleaner.clean(_demote_headings(renderer.render(source)))


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
