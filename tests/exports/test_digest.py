"""The digest (TF-IDF centroid) and the open-questions rule, on plain texts."""
from __future__ import annotations

import random

from forum.exports.digest import Sentence, Source, digest, open_questions, plain_text, split_sentences
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


def test_open_questions_leave_out_prompts_repeats_and_what_the_digest_quotes():
    prompt = "What support would make evening classes possible for working parents?"
    sources = [
        Source(1, "Moderator", prompt, endorsements=7, prompt=True),
        Source(2, "Ana", "Who pays for childcare during evening language classes in small towns?", endorsements=2),
        Source(3, "Ben", "who pays for childcare during evening language classes in small towns", endorsements=1),
        Source(4, "Chloé", "Could employers count class hours as paid working time for newcomers?"),
        Source(5, "Dev", "Is there funding left in the regional programme for this?"),
    ]
    quoted = [Sentence("Is there funding left in the regional programme for this?", "Dev", 5, 0)]
    questions = open_questions(sources, besides=quoted)
    texts = [q.text for q in questions]
    assert prompt not in texts  # however endorsed, a moderator's prompt is no open question
    assert not {q.text for q in quoted} & set(texts)  # nothing the digest already says
    assert len({" ".join(t.lower().rstrip("?").split()) for t in texts}) == len(texts)  # no repeats
    # The endorsed participant's question leads; the repeat of it (fewer endorsements) is gone.
    assert texts[0] == "Who pays for childcare during evening language classes in small towns?"
    assert [q.post_id for q in questions] == [2, 4]


def test_list_markers_are_not_part_of_sentences():
    text = plain_text(render_markdown(
        "Our questions:\n\n- Who checks the quality of volunteer-led language cafés?\n"
        "1. Can the hours count towards the official course?\n* Do we have the data for this yet?"))
    sentences = split_sentences(text)
    assert "Who checks the quality of volunteer-led language cafés?" in sentences
    assert "Can the hours count towards the official course?" in sentences
    assert "Do we have the data for this yet?" in sentences
    assert not [s for s in sentences if s[0] in "•-*" or s[0].isdigit()]
    assert [q.text for q in open_questions([Source(1, "A", text)])][:2] == [
        "Who checks the quality of volunteer-led language cafés?", "Can the hours count towards the official course?"]
