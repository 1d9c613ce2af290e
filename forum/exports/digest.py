"""The digest of a discussion: its most representative sentences, and its open questions.

Digest (a TF-IDF centroid, in the manner of Radev et al.'s centroid-based summarisation)
---------------------------------------------------------------------------------------
1. Text. Each post loses what it quotes (its blockquotes: they repeat someone else) and
   becomes plain text (`forum.rendering.html_to_text` of the post's stored HTML).
2. Sentences. The text is cut at line breaks (posts are written like chat messages) and after
   ".", "!" or "?" followed by white space; a list marker ("•", "-", "*", "1.", "2)") at the
   start of a line is not part of the sentence. A sentence is kept if it has 6 to 60 words.
3. Words. Lower-cased Unicode words (``\\w+``) of at least 3 characters, minus a short
   stop-word list (English, Italian, French, German, Spanish) and numbers.
4. Weights. Each sentence is a vector of TF-IDF weights: the word's count in the sentence
   times ``idf = ln((1 + N) / (1 + df)) + 1``, where N is the number of sentences of the
   section and df the number of them holding the word; each vector has length 1.
5. Centroid. The mean of the section's sentence vectors: what the discussion as a whole is
   about. A sentence's score is its cosine similarity with the centroid: sentences made of
   the words many others use, and not only of rare ones, score high.
6. Choice. Sentences by score (highest first; ties by post id, then position in the post),
   skipping any whose cosine with an already chosen one exceeds 0.8 (near repeats), until
   `limit` are chosen. They are returned exactly as written, with their author's label.

The result depends only on the set of posts: they are sorted by id before anything is
summed, and scores are rounded before they are compared, so the order in which posts are
given and floating-point noise do not change the choice.

Open questions
--------------
Sentences ending with "?" (same cutting as above, at least 3 words, quoted lines left out)
from participants' posts that received no reply in the export: never a prompt (a post by the
place's moderators or its organisers: they ask questions to start the discussion, they do not
leave them open), never a sentence the digest already quotes, never the same sentence twice
(compared without case, spaces and punctuation). The questions others endorsed come first,
most endorsed first (ties by post id, then position), at most 5.
"""
from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from forum.rendering import html_to_text

MIN_WORDS, MAX_WORDS = 6, 60
DUPLICATE_COSINE = 0.8
DIGEST_SIZE = 4
OPEN_QUESTIONS = 5
MIN_QUESTION_WORDS = 3

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_LIST_MARKER = re.compile(r"^\s*(?:[•\-*+]|\d{1,3}[.)])\s+")
_WORD = re.compile(r"\w+")
STOPWORDS = frozenset("""
the and for are but not you all any can has have had was were this that these those with from
they them their there which what when who whom will would should could our ours your its into
than then also been being more most such only other some very just about over does did each
how why where here per out our she her his him may might must shall own same too off onto
della delle degli dei che non con una uno sono come anche nel nella nelle negli questo questa
questi queste per gli alla alle allo dal dalla dai più essere hanno tra fra suo sua loro
les des une est pour pas que qui dans sur avec sont ces aux par plus mais comme leur leurs
cette ont elle ils nous vous être
der die das und ist nicht mit von für den dem des ein eine einer eines auf sich auch sind
wir ihr sie als bei oder aus wie zum zur noch nur
los las del por para una que como más pero sus este esta estos estas son ser con
""".split())


@dataclass(frozen=True)
class Source:
    """A post as the digest sees it: its plain text (see `plain_text`), who wrote it, and
    what the open-questions rule needs."""
    post_id: int
    author: str
    text: str
    endorsements: int = 0
    replied: bool = False
    prompt: bool = False  # written by the place's moderators or organisers (never an open question)
    sentences: tuple[str, ...] = field(init=False, repr=False, compare=False)  # split_sentences(text), once

    def __post_init__(self):
        object.__setattr__(self, "sentences", tuple(split_sentences(self.text)))


@dataclass(frozen=True)
class Sentence:
    text: str
    author: str
    post_id: int
    position: int  # the sentence's index among the post's sentences
    score: float = 0.0


_QUOTE_TAG = re.compile(r"<(/?)blockquote\b[^>]*>")


def plain_text(body_html: str) -> str:
    """A post's stored HTML as plain text, without what it quotes (someone else's words),
    quotes within quotes included."""
    kept, depth, position = [], 0, 0
    for tag in _QUOTE_TAG.finditer(body_html):
        if depth == 0:
            kept.append(body_html[position:tag.start()])
        depth = max(0, depth - 1) if tag.group(1) else depth + 1
        position = tag.end()
    if depth == 0:
        kept.append(body_html[position:])
    return html_to_text("".join(kept))


def split_sentences(text: str) -> list[str]:
    """All sentences of a plain text, in order, stripped (no length rule applied)."""
    sentences = []
    for line in text.splitlines():
        line = _LIST_MARKER.sub("", line)
        sentences.extend(part.strip() for part in _SENTENCE_END.split(line) if part.strip())
    return sentences


def words(sentence: str) -> list[str]:
    return [w for w in _WORD.findall(sentence.lower())
            if len(w) >= 3 and not w.isdigit() and w not in STOPWORDS]


def digest(sources: Iterable[Source], limit: int = DIGEST_SIZE) -> list[Sentence]:
    """The `limit` most representative sentences of `sources` (see the module docstring)."""
    # (post id, position, text, author, words): Sentence objects only for the chosen few.
    candidates = [
        (source.post_id, position, text, source.author, tokens)
        for source in sorted(sources, key=lambda s: s.post_id)
        for position, text in enumerate(source.sentences)
        if MIN_WORDS <= len(text.split()) <= MAX_WORDS and (tokens := words(text))
    ]
    if not candidates:
        return []
    document_frequency = Counter(word for *_, tokens in candidates for word in set(tokens))
    n = len(candidates)
    idf = {word: math.log((1 + n) / (1 + df)) + 1 for word, df in document_frequency.items()}
    vectors = [_normalise({w: c * idf[w] for w, c in Counter(tokens).items()}) for *_, tokens in candidates]
    centroid: dict[str, float] = {}
    for vector in vectors:  # each word's sum in the candidates' order, whatever the words' order
        for word, weight in vector.items():
            centroid[word] = centroid.get(word, 0.0) + weight / n
    centroid = _normalise(centroid)

    scored = sorted(
        ((round(_dot(vector, centroid), 9), candidate, vector) for candidate, vector in zip(candidates, vectors,
                                                                                           strict=True)),
        key=lambda item: (-item[0], item[1][0], item[1][1]))
    chosen: list[tuple[Sentence, dict[str, float]]] = []
    for score, (post_id, position, text, author, _tokens), vector in scored:
        if len(chosen) == limit:
            break
        if any(_dot(vector, other) > DUPLICATE_COSINE for _, other in chosen):
            continue
        chosen.append((Sentence(text, author, post_id, position, score), vector))
    return [sentence for sentence, _ in chosen]


def open_questions(sources: Iterable[Source], limit: int = OPEN_QUESTIONS,
                   besides: Iterable[Sentence] = ()) -> list[Sentence]:
    """Participants' questions nobody answered, none of them among `besides` (the digest):
    see the module docstring."""
    seen = {_same(sentence.text) for sentence in besides}
    questions = sorted(
        ((source.endorsements, Sentence(text, source.author, source.post_id, position))
         for source in sources if not source.replied and not source.prompt
         for position, text in enumerate(source.sentences)
         if text.endswith("?") and len(text.split()) >= MIN_QUESTION_WORDS),
        key=lambda item: (-item[0], item[1].post_id, item[1].position))
    chosen = []
    for _, sentence in questions:
        if len(chosen) == limit:
            break
        if _same(sentence.text) not in seen:
            seen.add(_same(sentence.text))
            chosen.append(sentence)
    return chosen


def _same(text: str) -> str:
    """A sentence as compared for repeats: its words, lower-cased."""
    return " ".join(_WORD.findall(text.lower()))


def _normalise(vector: dict[str, float]) -> dict[str, float]:
    # fsum: exactly rounded, so the same whatever the order of the words.
    length = math.sqrt(math.fsum(weight * weight for weight in vector.values()))
    return {word: weight / length for word, weight in vector.items()} if length else {}


def _dot(a: dict[str, float], b: dict[str, float]) -> float:
    if len(b) < len(a):
        a, b = b, a
    return math.fsum(weight * b.get(word, 0.0) for word, weight in a.items())
