"""forum.rendering: user Markdown becomes safe HTML, whatever is typed."""
from __future__ import annotations

import re

import pytest
from markdown_it import MarkdownIt

from forum import rendering
from forum.rendering import LINK_REL, markdown_to_text, render_markdown

ATTACKS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=https://evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    '<a href="#" onclick="alert(1)">click</a>',
    '<div onmouseover="alert(1)">hover</div>',
    "<svg onload=alert(1)>",
    "<iframe src=https://evil.example></iframe>",
    "<style>body{display:none}</style>",
    '<a href="javascript:alert(1)">x</a>',
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x](java&#115;cript:alert(1))",
    "[x](  javascript:alert(1))",
    "[x](vbscript:msgbox(1))",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![x](javascript:alert(1))",
    '[x](https://ok.example/" onclick="alert(1))',
    "<form action=https://evil.example><input name=p></form>",
]

TAG = re.compile(r"<\s*([a-zA-Z0-9]+)([^>]*)>")


def tags_in(html: str) -> set[str]:
    return {m.group(1).lower() for m in TAG.finditer(html)}


def assert_safe(html: str) -> None:
    assert tags_in(html) <= rendering.ALLOWED_TAGS, html
    lowered = html.lower()
    assert "<script" not in lowered and "<img" not in lowered and "<iframe" not in lowered
    assert not re.search(r"<[^>]*\son[a-z]+\s*=", lowered), html  # no event-handler attributes
    for href in re.findall(r'href="([^"]*)"', html):
        assert href.split(":", 1)[0].lower() in {"http", "https", "mailto"} or ":" not in href, href


@pytest.mark.parametrize("source", ATTACKS)
def test_attacks_are_neutralised(source):
    html = render_markdown(source)
    assert_safe(html)
    assert 'href="javascript' not in html.lower()
    assert 'href="data:' not in html.lower() and 'href="vbscript' not in html.lower()


@pytest.mark.parametrize("source", ATTACKS)
def test_bleach_is_a_second_wall_when_markdown_would_pass_html(monkeypatch, source):
    """Even if raw HTML reached the cleaner (a Markdown setting changed by mistake), nothing
    dangerous would come out."""
    monkeypatch.setattr(rendering, "_markdown", MarkdownIt("commonmark", {"html": True}))
    html = render_markdown(source)
    assert_safe(html)
    assert 'href="javascript' not in html.lower()


def test_raw_html_is_shown_as_text_not_markup():
    html = render_markdown("Use <b>bold</b> & <i>italics</i>")
    assert html == "<p>Use &lt;b&gt;bold&lt;/b&gt; &amp; &lt;i&gt;italics&lt;/i&gt;</p>\n"


def test_script_text_is_escaped_not_executed():
    html = render_markdown("<script>alert(1)</script>")
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_markdown_links_get_rel_nofollow_ugc_noopener():
    html = render_markdown('[the plan](https://example.org/plan "Plan")')
    assert html == (f'<p><a href="https://example.org/plan" title="Plan" rel="{LINK_REL}">the plan</a></p>\n')
    assert LINK_REL == "nofollow ugc noopener"


@pytest.mark.parametrize("source", [
    "See https://www.example.org/plan today",
    "See www.example.org today",
    "See <https://example.org/plan> today",
    "Mail <mailto:someone@example.org>",
])
def test_bare_and_autolinked_urls_become_links_with_rel(source):
    html = render_markdown(source)
    links = re.findall(r"<a [^>]*>", html)
    assert len(links) == 1, html
    assert f'rel="{LINK_REL}"' in links[0]


def test_a_rel_typed_by_the_user_is_replaced(monkeypatch):
    monkeypatch.setattr(rendering, "_markdown", MarkdownIt("commonmark", {"html": True}))
    html = render_markdown('<a href="https://example.org" rel="dofollow">x</a>')
    assert f'rel="{LINK_REL}"' in html and "dofollow" not in html


def test_urls_in_code_are_not_linkified():
    html = render_markdown("`https://example.org`\n\n    https://example.org/code")
    assert "<a " not in html
    assert "<code>https://example.org</code>" in html


def test_headings_are_demoted_below_the_page_headings():
    html = render_markdown("# One\n\n## Two\n\n### Three\n\n#### Four")
    assert html == "<h3>One</h3>\n<h4>Two</h4>\n<h3>Three</h3>\n<h4>Four</h4>\n"
    assert "<h1" not in html and "<h2" not in html


def test_allowed_formatting_survives():
    html = render_markdown("**b** *i* `c`\n\n> quote\n\n1. one\n2. two\n\n---\n\n| a | b |\n|---|---|\n| 1 | 2 |")
    for fragment in ("<strong>b</strong>", "<em>i</em>", "<code>c</code>",
                     "<blockquote>", "<ol>", "<li>one</li>", "<hr>", "<table>", "<td>2</td>"):
        assert fragment in html, fragment


def test_strikethrough_survives():
    """markdown-it-py writes <s>, so the allowlist must hold it (not only <del>)."""
    html = render_markdown("I ~~support~~ oppose this")
    assert re.search(r"<(s|del)>support</\1>", html), html


def test_images_are_dropped():
    html = render_markdown("![a tracking pixel](https://example.org/pixel.png)")
    assert "<img" not in html and "pixel.png" not in html


def test_posts_keep_line_breaks_briefs_do_not():
    assert render_markdown("one\ntwo") == "<p>one<br>\ntwo</p>\n"
    assert render_markdown("one\ntwo", document=True) == "<p>one\ntwo</p>\n"
    assert_safe(render_markdown("<script>x</script>\n[x](javascript:alert(1))", document=True))


@pytest.mark.parametrize(("source", "text"), [
    ("**Bold** and *italic* with [a link](https://example.org)", "Bold and italic with a link"),
    ("# Heading\n\nParagraph", "Heading\nParagraph"),
    ("Fish & chips < 5 \"euros\" it's", "Fish & chips < 5 \"euros\" it's"),
    ("<script>alert(1)</script>", "<script>alert(1)</script>"),
    ("- one\n- two", "one\ntwo"),
    ("  ", ""),
])
def test_markdown_to_text(source, text):
    lines = [line.strip() for line in markdown_to_text(source).splitlines() if line.strip()]
    assert "\n".join(lines) == text


# --- Mentions (forum.services.mentions resolves the handles; rendering makes the links) ----

def _with_mentions(source: str, hrefs=None) -> str:
    from forum.services.mentions import MENTION_RE

    links = rendering.MentionLinks(MENTION_RE, hrefs if hrefs is not None else {"anna.rossi": "/people/7"})
    return render_markdown(source, mentions=links)


MENTION = '<a class="mention" href="/people/7" rel="nofollow ugc noopener">@anna.rossi</a>'


def test_an_existing_handle_becomes_a_link_to_the_persons_page():
    assert _with_mentions("Thanks @Anna.Rossi, and @nobody.") == f"<p>Thanks {MENTION}, and @nobody.</p>\n"


@pytest.mark.parametrize("source", [
    "`@anna.rossi`", "    @anna.rossi in a block", "```\n@anna.rossi\n```",
    "[@anna.rossi](https://example.org)", "<https://x.example/@anna.rossi>", "https://x.example/@anna.rossi",
    "anna.rossi@example.org", "mail@anna.rossi",
], ids=["code span", "indented code", "fenced code", "link text", "autolink", "bare url", "address", "after a word"])
def test_no_mention_link_inside_code_links_or_addresses(source):
    assert 'class="mention"' not in _with_mentions(source)


def test_a_handle_that_looks_like_a_domain_is_a_mention_not_a_link():
    html = _with_mentions("Ask @zhang.li", {"zhang.li": "/people/9"})
    assert html == '<p>Ask <a class="mention" href="/people/9" rel="nofollow ugc noopener">@zhang.li</a></p>\n'


def test_mention_links_are_within_the_allowlist():
    """Cleaning the output again changes nothing: the link is what ALLOWED_TAGS and
    ALLOWED_ATTRIBUTES allow, and `class` is allowed on a link only as "mention"."""
    html = _with_mentions("**@anna.rossi** and _@anna.rossi_ in a [link](https://example.org)")
    assert html.count(MENTION) == 2
    assert rendering._cleaner.clean(html) == html
    assert rendering._cleaner.clean('<a class="evil" href="https://x.example">x</a>') == \
        '<a href="https://x.example" rel="nofollow ugc noopener">x</a>'


@pytest.mark.parametrize("source", [
    '@anna.rossi"><script>alert(1)</script>',
    "@anna.rossi<img src=x onerror=alert(1)>",
    '@"onmouseover=alert(1)',
    "@anna.rossi\" onclick=\"alert(1)",
    "[@anna.rossi](javascript:alert(1))",
    "@<script>alert(1)</script>",
    *ATTACKS,
])
def test_attacks_around_handles_are_neutralised(source):
    html = _with_mentions(source)
    assert_safe(html)
    assert 'href="javascript' not in html.lower()
