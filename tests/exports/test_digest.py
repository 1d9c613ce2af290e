"""The digest (TF-IDF centroid) and the open-questions rule, on plain texts."""
from __future__ import annotations

import random

from forum.exports.digest import Source, digest, open_questions, plain_text, split_sentences
from forum.rendering import render_markdown

HOUSING = [
    Source(1, "Ana", "Affordable housing is the first barrier for newcomers in our city. "
                     "We also ran a football tournament last summer for the whole neighbourhood."),
    Source(2, "Ben", "Landlords refuse tenants without a local guarantor, so housing stays out of reach. "
                     "Municipal guarantee funds for housing deposits would help newcomers rent a flat."),
    Source(3, "Chloé", "Social housing waiting lists are years long for newcomers in most regions. "
                       "Thanks!"),
    Source(4, "Dev", "A housing guarantee fund run by the city helped newcomers sign their first rental contract."),
]


def _texts(sentences):
    return [s.text for s in sentences]


def test_digest_picks_sentences_as_written_with_their_authors():
    chosen = digest(HOUSING, limit=3)
    assert len(chosen) == 3
    by_post = {s.post_id: s for s in HOUSING}
    for sentence in chosen:
        assert sentence.text in by_post[sentence.post_id].text
        assert sentence.author == by_post[sentence.post_id].author
    scores = [s.score for s in chosen]
    assert scores == sorted(scores, reverse=True)


def test_digest_prefers_the_on_topic_sentence():
    chosen = _texts(digest(HOUSING, limit=4))
    off_topic = "We also ran a football tournament last summer for the whole neighbourhood."
    assert off_topic not in chosen
    assert chosen[0] != off_topic
    # All four on-topic sentences beat it.
    assert all("housing" in text.lower() or "rent" in text.lower() for text in chosen)


def test_digest_is_deterministic_across_runs_and_input_order():
    first = digest(HOUSING)
    for seed in range(5):
        shuffled = HOUSING[:]
        random.Random(seed).shuffle(shuffled)
        assert digest(shuffled) == first


def test_digest_skips_short_long_and_quoted_sentences():
    long_sentence = " ".join(["housing"] * 61) + "."
    sources = [Source(1, "A", "Too short to count here. " + long_sentence),
               Source(2, "B", plain_text(render_markdown("> Quoted words about housing policy in the region today\n\n"
                                                         "My own view on housing policy in the region today.")))]
    assert _texts(digest(sources)) == ["My own view on housing policy in the region today."]


def test_digest_of_empty_and_one_sentence_sections():
    assert digest([]) == []
    assert digest([Source(1, "A", "")]) == []
    assert digest([Source(1, "A", "Yes. No.")]) == []
    only = digest([Source(7, "A", "The only sentence that is long enough to count.")])
    assert _texts(only) == ["The only sentence that is long enough to count."]
    assert only[0].post_id == 7 and only[0].position == 0


def test_digest_leaves_out_near_repeats():
    sources = [
        Source(1, "A", "Housing guarantee funds help newcomers rent flats."),
        Source(2, "B", "Housing guarantee funds help newcomers rent flats quickly."),
        Source(3, "C", "Language courses at work help newcomers find housing."),
    ]
    chosen = digest(sources, limit=3)
    assert [s.post_id for s in chosen].count(1) + [s.post_id for s in chosen].count(2) == 1
    assert 3 in [s.post_id for s in chosen]


def test_split_sentences_on_punctuation_and_line_breaks():
    assert split_sentences("One two. Three? Four!\nFive six\n\n  Seven.") == [
        "One two.", "Three?", "Four!", "Five six", "Seven."]
    # A full stop inside a number or a name does not cut.
    assert split_sentences("Version 2.5 is out.Then more.") == ["Version 2.5 is out.Then more."]


def test_open_questions_rule():
    sources = [
        Source(1, "A", "Who pays for the guarantee fund? I think the region should.", endorsements=1),
        Source(2, "B", "What about rural areas and small towns? And transport?", endorsements=4),
        Source(3, "C", "Did anyone try this already in Spain?", endorsements=9, replied=True),
        Source(4, "D", plain_text(render_markdown("> Is this a quoted question?\n\nNothing to ask."))),
        Source(5, "E", "Why?"),
    ]
    questions = open_questions(sources)
    # Unanswered posts only, most endorsed first; at least three words; no quoted lines.
    assert [(q.post_id, q.text) for q in questions] == [
        (2, "What about rural areas and small towns?"),
        (1, "Who pays for the guarantee fund?"),
    ]
    assert questions[0].author == "B"


def test_open_questions_at_most_five():
    sources = [Source(i, "A", f"Is question number {i} answered yet?") for i in range(1, 9)]
    assert [q.post_id for q in open_questions(sources)] == [1, 2, 3, 4, 5]
