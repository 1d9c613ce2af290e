"""A small HTML reader for the web tests: what a person (or a screen reader) finds on a page.

The standard library's HTMLParser builds a tree of `Element`s, so that a test can ask for
"the textarea named body" or "the articles of the responses, in order" instead of matching
strings in the markup.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


@dataclass(eq=False)
class Element:
    tag: str
    attrs: dict[str, str] = field(default_factory=dict)
    children: list[Element | str] = field(default_factory=list)
    parent: Element | None = None

    # --- reading --------------------------------------------------------------------

    def get(self, name: str, default: str | None = None) -> str | None:
        return self.attrs.get(name, default)

    @property
    def classes(self) -> set[str]:
        return set((self.attrs.get("class") or "").split())

    def raw_text(self) -> str:
        return "".join(c if isinstance(c, str) else c.raw_text() for c in self.children)

    def text(self) -> str:
        """The text content with runs of whitespace collapsed."""
        return " ".join(self.raw_text().split())

    def value(self) -> str:
        """What a form control holds: an input's value, a textarea's text, a select's choice."""
        if self.tag == "textarea":
            text = self.raw_text()
            # WTForms writes a new line after <textarea>, which browsers drop.
            return text[2:] if text.startswith("\r\n") else text[1:] if text.startswith("\n") else text
        if self.tag == "select":
            selected = [o for o in self.find_all("option") if "selected" in o.attrs]
            return selected[0].get("value", "") if selected else ""
        return self.attrs.get("value", "")

    # --- searching ------------------------------------------------------------------

    def iter(self) -> Iterator[Element]:
        for child in self.children:
            if isinstance(child, Element):
                yield child
                yield from child.iter()

    def find_all(self, tag: str | None = None, *, class_: str | None = None, **attrs: str | bool) -> list[Element]:
        """Descendants by tag, by one of their classes, and by attributes (True: present)."""
        found = []
        for element in self.iter():
            if tag is not None and element.tag != tag:
                continue
            if class_ is not None and class_ not in element.classes:
                continue
            if all((name.rstrip("_").replace("_", "-") in element.attrs) if wanted is True
                   else element.attrs.get(name.rstrip("_").replace("_", "-")) == wanted
                   for name, wanted in attrs.items()):
                found.append(element)
        return found

    def find(self, tag: str | None = None, **kwargs) -> Element | None:
        found = self.find_all(tag, **kwargs)
        return found[0] if found else None

    def one(self, tag: str | None = None, **kwargs) -> Element:
        found = self.find_all(tag, **kwargs)
        assert len(found) == 1, f"expected one <{tag or '*'} {kwargs}>, found {len(found)}"
        return found[0]

    def by_id(self, element_id: str) -> Element:
        return self.one(id=element_id)

    def ancestors(self) -> Iterator[Element]:
        node = self.parent
        while node is not None:
            yield node
            node = node.parent

    # --- forms ----------------------------------------------------------------------

    def control(self, name: str) -> Element:
        """The form control (input, textarea or select) with this name."""
        found = [e for e in self.iter() if e.tag in {"input", "textarea", "select"} and e.get("name") == name]
        assert found, f"no form control named {name!r}"
        return found[0]

    def field_error(self, field_id: str) -> str:
        """The error message shown next to a field (the text tied to it by aria-describedby)."""
        control = self.by_id(field_id)
        assert control.get("aria-invalid") == "true", f"{field_id} is not marked invalid"
        assert f"{field_id}-error" in (control.get("aria-describedby") or "").split()
        return self.by_id(f"{field_id}-error").text()


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#document")
        self.stack = [self.root]

    def handle_starttag(self, tag, attrs):
        element = Element(tag, {k: (v if v is not None else "") for k, v in attrs}, parent=self.stack[-1])
        self.stack[-1].children.append(element)
        if tag not in VOID:
            self.stack.append(element)

    def handle_startendtag(self, tag, attrs):
        element = Element(tag, {k: (v if v is not None else "") for k, v in attrs}, parent=self.stack[-1])
        self.stack[-1].children.append(element)

    def handle_endtag(self, tag):
        for index in range(len(self.stack) - 1, 0, -1):
            if self.stack[index].tag == tag:
                del self.stack[index:]
                return

    def handle_data(self, data):
        self.stack[-1].children.append(data)


def parse(response_or_html) -> Element:
    """The document tree of a test response (or of an HTML string)."""
    html = response_or_html if isinstance(response_or_html, str) else response_or_html.get_data(as_text=True)
    builder = _TreeBuilder()
    builder.feed(html)
    builder.close()
    return builder.root


# --- Plenary's pages ----------------------------------------------------------------

_POST_ID = re.compile(r"^post-(\d+)$")


def post_ids(page: Element) -> list[int]:
    """Ids of every post shown (responses and replies), in page order."""
    return [int(m.group(1)) for a in page.find_all("article")
            if (m := _POST_ID.match(a.get("id") or ""))]


def response_ids(page: Element) -> list[int]:
    """Ids of the top-level responses shown, in page order."""
    ids = []
    for thread in page.find_all("li", class_="thread"):
        article = thread.find("article")
        ids.append(int(_POST_ID.match(article.get("id")).group(1)))
    return ids


def post_article(page: Element, post_id: int) -> Element:
    return page.by_id(f"post-{post_id}")


def flashes(page: Element) -> list[str]:
    return [p.text() for p in page.find_all("p", class_="flash")]


def error_message(page: Element) -> str:
    """The heading of the error page (errors/error.html)."""
    return page.one("h1").text()


def csrf_token(page: Element, action: str | None = None) -> str:
    """The CSRF token of the form posting to `action` (the first form when None)."""
    forms = page.find_all("form", method="post")
    if action is not None:
        forms = [f for f in forms if f.get("action") == action]
    assert forms, f"no form posting to {action!r}"
    return forms[0].control("csrf_token").value()
