"""Words for the search index, pure: the plain text of what is indexed, its stemmed words,
a reader's query taken apart, and the matches highlighted in context.

Both engines index a document in its language (`LANGUAGES`; "simple": words as written) and
look for each query word in every language at once, so that "childcare" finds "childcare's"
in an English post and "bambini" finds "bambino" in an Italian one. On PostgreSQL the
database stems (its Snowball configurations of the same names); on SQLite this module does,
with the Snowball stemmers of `snowballstemmer`. Highlighting is one piece of code for both.
"""
from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

import snowballstemmer
from markupsafe import Markup, escape

# Person's language code (User.preferred_language) -> text search configuration, which is
# both a PostgreSQL configuration and a Snowball algorithm of that name.
LANGUAGES = {"en": "english", "it": "italian"}
SIMPLE = "simple"
CONFIGURATIONS = (*LANGUAGES.values(), SIMPLE)

# Words a query may hold (longer queries are refused: each word is looked for in every language).
MAX_QUERY_WORDS = 12
MAX_QUERY_LENGTH = 200

# Letters and digits, as SQLite's unicode61 tokenizer and PostgreSQL's parser split words
# (an apostrophe or an underscore ends a word: "childcare's" is "childcare" and "s").
_WORD = re.compile(r"[^\W_]+")
# Tags that end a block of text (a word never runs across them); other tags are inline.
_BLOCK_TAG = re.compile(r"</?(?:p|br|li|ul|ol|h[1-6]|div|blockquote|pre|tr|td|th|table|hr)\b[^>]*>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]*>")


def configuration(language_code: str | None) -> str:
    return LANGUAGES.get(language_code or "", SIMPLE)


def plain_text(html_text: str) -> str:
    """What a reader reads of rendered HTML: tags out, entities decoded, spaces collapsed."""
    return " ".join(html.unescape(_TAG.sub("", _BLOCK_TAG.sub(" ", html_text or ""))).split())


@lru_cache(maxsize=None)
def _stemmer(config: str):
    return snowballstemmer.stemmer(config)


def fold(word: str) -> str:
    """Lower case without diacritics, as FTS5 compares (`remove_diacritics 2`)."""
    decomposed = unicodedata.normalize("NFKD", word.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def words(text: str) -> list[str]:
    return _WORD.findall(unicodedata.normalize("NFC", text or "").lower())


@lru_cache(maxsize=65536)
def stem(word: str, config: str) -> str:
    """`word` (lower case) as `config` stems it; "simple" keeps it."""
    if config == SIMPLE:
        return word
    return _stemmer(config).stemWord(word)


def index_terms(text: str, config: str) -> str:
    """The words SQLite's FTS5 table holds for `text`: each stemmed in the document's language."""
    return " ".join(stem(word, config) for word in words(text))


@dataclass
class Query:
    """A reader's query: groups of words joined by OR; in a group every word is required,
    except those written with a leading minus, which must be absent (websearch_to_tsquery's
    syntax on PostgreSQL, which also reads "quoted phrases"; here their words are required)."""
    text: str
    groups: list[tuple[list[str], list[str]]] = field(default_factory=list)

    @property
    def positive_words(self) -> list[str]:
        return [word for required, _ in self.groups for word in required]

    def __bool__(self) -> bool:
        return bool(self.positive_words)


def parse_query(text: str) -> Query:
    query = Query(" ".join(text.split()))
    required: list[str] = []
    excluded: list[str] = []
    for token in query.text.split(" "):
        if token.lower() == "or":
            if required:
                query.groups.append((required, excluded))
            required, excluded = [], []
            continue
        negated = token.startswith("-")
        for word in words(token):
            (excluded if negated else required).append(word)
    if required:
        query.groups.append((required, excluded))
    return query


def query_words_count(query: Query) -> int:
    return sum(len(required) + len(excluded) for required, excluded in query.groups)


def alternatives(word: str) -> list[str]:
    """A query word as every language may have indexed it: as written, and each stem."""
    forms = [fold(word)]
    for config in LANGUAGES.values():
        stemmed = fold(stem(word, config))
        if stemmed not in forms:
            forms.append(stemmed)
    return forms


def fts5_match(query: Query) -> str:
    """The FTS5 MATCH expression for `query`: each word as any of its `alternatives`."""
    def term(word: str) -> str:
        return "(" + " OR ".join(f'"{form}"' for form in alternatives(word)) + ")"

    groups = []
    for required, excluded in query.groups:
        expression = " AND ".join(term(word) for word in required)
        for word in excluded:
            expression = f"({expression}) NOT {term(word)}"
        groups.append(f"({expression})")
    return " OR ".join(groups)


# --- Highlighting -------------------------------------------------------------------------

SNIPPET_LENGTH = 260


def _matcher(query: Query, config: str):
    """Whether a word of a document indexed with `config` matches a word of the query: the
    same comparison the engines make (the word's stem in the document's language, or the
    word as written)."""
    wanted = set()
    for word in query.positive_words:
        wanted.add(fold(word))
        wanted.add(fold(stem(word, config)))
    return lambda word: fold(word) in wanted or fold(stem(word.lower(), config)) in wanted


def _marked(text: str, spans: list[tuple[int, int]], start: int, end: int) -> Markup:
    out = []
    position = start
    for span_start, span_end in spans:
        if span_end <= start or span_start >= end:
            continue
        out.append(escape(text[position:span_start]))
        out.append(Markup("<mark>{}</mark>").format(text[span_start:span_end]))
        position = span_end
    out.append(escape(text[position:end]))
    return Markup("").join(out)


def _spans(text: str, matches) -> list[tuple[int, int]]:
    return [m.span() for m in _WORD.finditer(text) if matches(m.group())]


def highlight(text: str, query: Query, config: str) -> Markup:
    """All of `text`, escaped, with the words the query matches in <mark>."""
    return _marked(text, _spans(text, _matcher(query, config)), 0, len(text))


def snippet(text: str, query: Query, config: str, length: int = SNIPPET_LENGTH) -> Markup:
    """About `length` characters of `text` around its first match (or its start), escaped,
    with the matched words in <mark> and an ellipsis where text was left out."""
    spans = _spans(text, _matcher(query, config))
    if len(text) <= length:
        return _marked(text, spans, 0, len(text))
    first = spans[0][0] if spans else 0
    start = max(0, first - length // 4)
    if start > 0:  # begin at a word
        space = text.find(" ", start)
        start = space + 1 if 0 <= space < first else start
    end = min(len(text), start + length)
    if end < len(text):
        space = text.rfind(" ", start, end)
        end = space if space > first else end
    body = _marked(text, spans, start, end)
    return Markup("").join([Markup("… ") if start > 0 else Markup(""), body,
                            Markup(" …") if end < len(text) else Markup("")])
