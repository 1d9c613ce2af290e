"""forum.services.tally: ballots checked, and every kind's figures against values computed by hand.

Options are numbered 1, 2, 3, ... (A, B, C, ... in the comments of the ranked-choice cases)."""
from __future__ import annotations

import json
from itertools import pairwise
from types import SimpleNamespace

import pytest
from flask_babel.speaklater import LazyString
from hypothesis import given, settings
from hypothesis import strategies as st

from forum.services.errors import ValidationError
from forum.services.tally import Ballot, Spec, breakdown, check_ballot, results, spec_of

# No example database: it would leave a .hypothesis folder in the work tree.
PROPERTY = settings(database=None, deadline=None, max_examples=150)

A, B, C, D, E = 1, 2, 3, 4, 5


def spec(kind, n=3, **settings_):
    return Spec(kind=kind, option_ids=tuple(range(1, n + 1)), **settings_)


def ballots(*choices, country="", organisation_type=""):
    return [Ballot(choice, country, organisation_type) for choice in choices]


def times(n, choice):
    return [choice] * n


def rejected(spec_, raw, field="choice") -> str:
    """The refusal's message, checking the field it names: the ballot as a whole, or one
    option's answer ("score-3": the vote form's field)."""
    with pytest.raises(ValidationError) as caught:
        check_ballot(spec_, raw)
    assert caught.value.field == field
    assert isinstance(caught.value.message, LazyString)  # translated when shown
    return str(caught.value.message)


# --- spec_of ---------------------------------------------------------------------------------

def test_spec_of_reads_a_poll_with_options_in_position_order():
    from forum.models.polls import PollKind

    poll = SimpleNamespace(kind=PollKind.SCORE, max_choices=None, scale_min=0, scale_max=10, points=None,
                           options=[SimpleNamespace(id=7, position=2), SimpleNamespace(id=9, position=1)])
    assert spec_of(poll) == Spec("score", (9, 7), None, 0, 10, None)


# --- check_ballot ----------------------------------------------------------------------------

def test_single_choice_ballots():
    s = spec("single")
    assert check_ballot(s, [2]) == [2]
    assert check_ballot(s, 2) == [2]
    assert check_ballot(s, "3") == [3]  # a form's radio button
    assert check_ballot(s, ["1"]) == [1]
    assert rejected(s, []) == "Choose an option."
    assert rejected(s, "") == "Choose an option."
    assert rejected(s, None) == "Choose an option."
    assert rejected(s, [None]) == "Choose an option."
    assert rejected(s, [1, 2]) == "Choose only one option."
    assert rejected(s, [4]) == "This option is not part of the poll."
    assert rejected(s, "one") == "This option is not part of the poll."
    assert rejected(s, "1.0") == "This option is not part of the poll."
    assert rejected(s, "١") == "This option is not part of the poll."  # Arabic-Indic one: no ASCII digit
    for malformed in (True, 1.0, {"1": 1}, [[1]], [False]):
        assert "not in the expected form" in rejected(s, malformed)


def test_multiple_choice_ballots():
    s = spec("multiple", 4, max_choices=2)
    assert check_ballot(s, [3, 1]) == [1, 3]  # stored in option order
    assert check_ballot(s, ["4"]) == [4]
    assert rejected(s, [1, 2, 3]) == "Choose at most 2 options."
    assert rejected(Spec("multiple", (1, 2), max_choices=1), [1, 2]) == "Choose at most 1 option."
    assert rejected(s, []) == "Choose at least one option."
    assert rejected(s, [1, 1]) == "Choose each option only once."
    assert rejected(s, [1, "1"]) == "Choose each option only once."
    assert rejected(s, [5]) == "This option is not part of the poll."
    for malformed in (1, "1", {"1": True}, [True], [1.5], None):
        assert "not in the expected form" in rejected(s, malformed)
    unlimited = spec("multiple", 3)
    assert check_ballot(unlimited, [1, 2, 3]) == [1, 2, 3]
    assert rejected(unlimited, [1, 2, 3, 1]) == "Choose each option only once."


def test_score_ballots():
    s = spec("score", scale_min=1, scale_max=5)
    assert check_ballot(s, {"3": 5, "1": 1}) == {"1": 1, "3": 5}
    assert check_ballot(s, {1: "4", "2": "", "3": None}) == {"1": 4}  # blanks: not rated
    assert rejected(s, {}) == "Rate at least one option."
    assert rejected(s, {"1": ""}) == "Rate at least one option."
    message = "Scores are whole numbers from 1 to 5."
    for bad in (0, 6, -1, 2.5, 3.0, True, "x", [3], {"a": 1}, 10**30):
        assert rejected(s, {"1": bad}, field="score-1") == message  # next to that option's field
    assert rejected(s, {"9": 3}) == "This option is not part of the poll."
    assert rejected(s, {"1": 3, 1: 4}) == "Answer for each option only once."
    for malformed in ([1, 2], "1=3", 3, None):
        assert "not in the expected form" in rejected(s, malformed)
    zero_to_ten = spec("score", scale_min=0, scale_max=10)
    assert check_ballot(zero_to_ten, {"2": 0, "1": 10}) == {"1": 10, "2": 0}


def test_ranked_ballots():
    s = spec("ranked", 4)
    assert check_ballot(s, [3, 1]) == [3, 1]  # best first, the rest unranked
    assert check_ballot(s, ["2", 4, 1, 3]) == [2, 4, 1, 3]
    assert check_ballot(s, {"1": "2", "2": "", "4": 1}) == [4, 1]  # a form's rank fields
    assert check_ballot(s, {"1": 5, "2": 2}) == [2, 1]  # gaps are harmless
    assert rejected(s, []) == "Rank at least one option."
    assert rejected(s, {"1": ""}) == "Rank at least one option."
    assert rejected(s, [1, 2, 1]) == "Rank each option only once."
    assert rejected(s, [1, 2, 3, 4, 1]) == "Rank each option only once."
    assert rejected(s, {"1": 1, "2": 1}, field="rank-2") == "Give each option a different rank."
    assert rejected(s, {"1": 0}, field="rank-1") == "Ranks are whole numbers from 1 up."
    assert rejected(s, {"1": 1.5}, field="rank-1") == "Ranks are whole numbers from 1 up."
    assert rejected(s, {"1": False}, field="rank-1") == "Ranks are whole numbers from 1 up."
    assert rejected(s, [7]) == "This option is not part of the poll."
    for malformed in (1, "1", None, [1, None], [False]):
        assert "not in the expected form" in rejected(s, malformed)


def test_dot_ballots():
    s = spec("dots", points=10)
    assert check_ballot(s, {"2": 4, "1": 6}) == {"1": 6, "2": 4}
    assert check_ballot(s, {"1": "3", "2": 0, "3": ""}) == {"1": 3}  # zero and blank: no points
    assert check_ballot(s, {"3": 1}) == {"3": 1}  # fewer than all points is allowed
    assert rejected(s, {"1": 6, "2": 5}) == "You gave 11 points: spread at most 10 points."
    assert rejected(spec("dots", points=1), {"1": 2}) == "You gave 2 points: spread at most 1 point."
    assert rejected(s, {"1": 0}) == "Give at least one point to an option."
    assert rejected(s, {}) == "Give at least one point to an option."
    for bad in (-1, 1.5, True, "two", [1]):
        assert rejected(s, {"1": bad}, field="points-1") == "Points are whole numbers, zero or more."
    assert rejected(s, {"1": 5, "-2": 1}) == "This option is not part of the poll."
    for malformed in ([1], 5, "1:5"):
        assert "not in the expected form" in rejected(s, malformed)


def test_an_unknown_kind_is_a_programming_error():
    with pytest.raises(ValueError):
        check_ballot(Spec("approval", (1,)), [1])
    with pytest.raises(ValueError):
        results(Spec("approval", (1,)), [])


# --- Results: single, multiple, score, dots --------------------------------------------------

def test_single_choice_results():
    figures = results(spec("single"), ballots([1], [1], [2]))
    assert figures == {"kind": "single", "voters": 3, "options": [
        {"id": 1, "votes": 2, "share": pytest.approx(2 / 3)},
        {"id": 2, "votes": 1, "share": pytest.approx(1 / 3)},
        {"id": 3, "votes": 0, "share": 0.0}]}


def test_multiple_choice_results_share_of_voters():
    figures = results(spec("multiple"), ballots([1, 2], [1], [2, 3], [1, 3]))
    assert figures["voters"] == 4
    assert [(o["id"], o["votes"], o["share"]) for o in figures["options"]] == [(1, 3, 0.75), (2, 2, 0.5),
                                                                              (3, 2, 0.5)]


def test_no_ballots_gives_zeros_not_errors():
    for kind in ("single", "multiple", "dots"):
        figures = results(spec(kind, points=5), [])
        assert figures["voters"] == 0
        assert all(o["share"] == 0.0 for o in figures["options"])
    score = results(spec("score"), [])
    assert [o["mean"] for o in score["options"]] == [None, None, None]
    ranked = results(spec("ranked"), [])
    assert (ranked["rounds"], ranked["winner"], ranked["tied"]) == ([], None, [])


def test_score_results_mean_and_full_distribution():
    figures = results(spec("score", scale_min=1, scale_max=5),
                      ballots({"1": 5, "2": 3}, {"1": 4}, {"2": 1}, {"1": 4, "3": 2}))
    assert figures["voters"] == 4
    first, second, third = figures["options"]
    assert first == {"id": 1, "ratings": 3, "mean": pytest.approx(13 / 3),
                     "distribution": {"1": 0, "2": 0, "3": 0, "4": 2, "5": 1}}
    assert second == {"id": 2, "ratings": 2, "mean": 2.0, "distribution": {"1": 1, "2": 0, "3": 1, "4": 0, "5": 0}}
    assert third == {"id": 3, "ratings": 1, "mean": 2.0, "distribution": {"1": 0, "2": 1, "3": 0, "4": 0, "5": 0}}
    unrated = results(spec("score", scale_min=0, scale_max=2), ballots({"1": 0}))["options"][1]
    assert unrated == {"id": 2, "ratings": 0, "mean": None, "distribution": {"0": 0, "1": 0, "2": 0}}


def test_dot_results_points_and_shares():
    figures = results(spec("dots", points=10), ballots({"1": 6, "2": 4}, {"1": 10}, {"3": 5}))
    assert figures == {"kind": "dots", "voters": 3, "points_given": 25, "options": [
        {"id": 1, "points": 16, "share": 0.64}, {"id": 2, "points": 4, "share": 0.16},
        {"id": 3, "points": 5, "share": 0.2}]}


def test_results_skip_what_is_no_longer_an_option():
    figures = results(spec("single", 2), ballots([1], [9], ["x"]))
    assert figures["voters"] == 3
    assert [o["votes"] for o in figures["options"]] == [1, 0]


def test_results_read_the_same_after_a_trip_through_json():
    s = spec("ranked", 4)
    votes = ballots(*times(5, [A]), *times(4, [B, C]), *times(3, [C, B]), *times(2, [D, C]), [D])
    figures = results(s, votes)
    assert json.loads(json.dumps(figures)) == figures


# --- Ranked choice: Borda and instant-runoff -------------------------------------------------

def counts(**by_letter):
    return {str("ABCDE".index(letter) + 1): n for letter, n in by_letter.items()}


def test_borda_points_unranked_options_get_none():
    # n = 3: first 2, second 1, third 0; a ballot ranking B alone gives B 2 and nothing else.
    figures = results(spec("ranked"), ballots([A, B, C], [B], [C, A]))
    assert figures["borda"] == [{"id": A, "points": 2 + 1}, {"id": B, "points": 1 + 2}, {"id": C, "points": 0 + 2}]


def test_a_majority_in_the_first_round_wins_at_once():
    figures = results(spec("ranked"), ballots(*times(3, [A]), [B, A], [C]))
    assert figures["rounds"] == [{"counts": counts(A=3, B=1, C=1), "exhausted": 0, "eliminated": []}]
    assert (figures["winner"], figures["tied"]) == (A, [])


def test_instant_runoff_over_several_rounds_with_exhausted_ballots():
    # Round 1: A5 B4 C3 D3 of 15; C and D tie for fewest with no earlier round: Borda (n = 4)
    # gives A 15, B 4*3+3*2 = 18, C 4*2+3*3+2*2 = 21, D 3*3 = 9, so D goes. Round 2: D's [D, C]
    # ballots move to C, [D] is exhausted: A5 B4 C5, 14 continuing, B goes. Round 3: A5 C9: a
    # majority of the 14 continuing ballots.
    votes = ballots(*times(5, [A]), *times(4, [B, C]), *times(3, [C, B]), *times(2, [D, C]), [D])
    figures = results(spec("ranked", 4), votes)
    assert figures["voters"] == 15
    assert figures["borda"] == [{"id": A, "points": 15}, {"id": B, "points": 18}, {"id": C, "points": 21},
                                {"id": D, "points": 9}]
    assert figures["rounds"] == [
        {"counts": counts(A=5, B=4, C=3, D=3), "exhausted": 0, "eliminated": [D]},
        {"counts": counts(A=5, B=4, C=5), "exhausted": 1, "eliminated": [B]},
        {"counts": counts(A=5, C=9), "exhausted": 1, "eliminated": []},
    ]
    assert (figures["winner"], figures["tied"]) == (C, [])


def test_exhausted_ballots_do_not_count_towards_the_majority():
    # A4 B3 C2: no majority of 9. C goes and its ballots are exhausted: A4 B3 of 7 continuing:
    # A wins with 4 of the 9 ballots, a majority of those still in the count.
    figures = results(spec("ranked"), ballots(*times(4, [A]), *times(3, [B]), *times(2, [C])))
    assert figures["rounds"] == [
        {"counts": counts(A=4, B=3, C=2), "exhausted": 0, "eliminated": [C]},
        {"counts": counts(A=4, B=3), "exhausted": 2, "eliminated": []},
    ]
    assert figures["winner"] == A


def test_an_elimination_tie_is_broken_by_the_previous_round_not_borda():
    # Round 1: A6 B4 C3 D2 of 15: D goes; [D, C] moves to C, [D] is exhausted. Round 2: A6 B4 C4,
    # B and C tie: in round 1 C had fewer (3 < 4), so C goes, although C has more Borda points
    # (n = 4: B 4*3 = 12, C 6*2 + 3*3 + 1*2 = 23). Round 3: A6 B4, 5 exhausted: A wins 6 of 10.
    votes = ballots(*times(6, [A, C]), *times(4, [B]), *times(3, [C]), [D, C], [D])
    figures = results(spec("ranked", 4), votes)
    assert [b["points"] for b in figures["borda"]] == [18, 12, 23, 6]
    assert figures["rounds"] == [
        {"counts": counts(A=6, B=4, C=3, D=2), "exhausted": 0, "eliminated": [D]},
        {"counts": counts(A=6, B=4, C=4), "exhausted": 1, "eliminated": [C]},
        {"counts": counts(A=6, B=4), "exhausted": 5, "eliminated": []},
    ]
    assert figures["winner"] == A


def test_an_elimination_tie_goes_back_round_by_round():
    # Round 1: A10 B4 C3 D2 E1 of 20: E goes, to C. Round 2: A10 B4 C4 D2: D goes, one ballot to
    # B and one to C. Round 3: A10 B5 C5: B and C tie, and tied in round 2 too (4, 4); in round 1
    # C had fewer (3 < 4): C goes (its Borda, 48, is far above B's 19). Round 4: A10 B5, C's five
    # ballots exhausted: A wins 10 of 15.
    votes = ballots(*times(10, [A, C]), *times(4, [B]), *times(3, [C]), [D, B], [D, C], [E, C])
    figures = results(spec("ranked", 5), votes)
    assert [b["points"] for b in figures["borda"]] == [40, 19, 48, 8, 4]
    assert figures["rounds"] == [
        {"counts": counts(A=10, B=4, C=3, D=2, E=1), "exhausted": 0, "eliminated": [E]},
        {"counts": counts(A=10, B=4, C=4, D=2), "exhausted": 0, "eliminated": [D]},
        {"counts": counts(A=10, B=5, C=5), "exhausted": 0, "eliminated": [C]},
        {"counts": counts(A=10, B=5), "exhausted": 5, "eliminated": []},
    ]
    assert (figures["winner"], figures["tied"]) == (A, [])


def test_options_without_votes_leave_together_and_a_final_tie_falls_to_borda():
    # Round 1: A2 B2 C1 D0 E0 of 5: D and E hold no ballot and go together. Round 2: C goes (its
    # ballot is exhausted). Round 3: A2 B2, tied in every round; Borda (n = 5) A 2*4+2*3 = 14,
    # B 2*4 = 8: B goes, its ballots move to A, who wins 4 of 4.
    votes = ballots(*times(2, [A]), *times(2, [B, A]), [C])
    figures = results(spec("ranked", 5), votes)
    assert figures["rounds"] == [
        {"counts": counts(A=2, B=2, C=1, D=0, E=0), "exhausted": 0, "eliminated": [D, E]},
        {"counts": counts(A=2, B=2, C=1), "exhausted": 0, "eliminated": [C]},
        {"counts": counts(A=2, B=2), "exhausted": 1, "eliminated": [B]},
        {"counts": counts(A=4), "exhausted": 1, "eliminated": []},
    ]
    assert figures["winner"] == A


def test_an_unbreakable_elimination_tie_is_reported_not_guessed():
    # A3 B2 C2 of 7: B and C tie with no earlier round and equal Borda (n = 3: 2*2 + 2*1 = 6
    # each). Eliminating B makes C win 4 of 7, eliminating C makes B win: no winner is named.
    figures = results(spec("ranked"), ballots(*times(3, [A]), *times(2, [B, C]), *times(2, [C, B])))
    assert figures["rounds"] == [{"counts": counts(A=3, B=2, C=2), "exhausted": 0, "eliminated": []}]
    assert (figures["winner"], figures["tied"]) == (None, [B, C])


def test_an_unbreakable_tie_of_the_fewest_leaves_together_when_it_cannot_matter():
    # A5 D4 B1 C1 of 11: B and C tie (equal Borda, 3 each) but hold 2 votes together, fewer than
    # D's 4: whichever went first, the other would go next. Round 2: A5 D6: D wins.
    votes = ballots(*times(5, [A]), *times(4, [D]), [B, D], [C, D])
    figures = results(spec("ranked", 4), votes)
    assert figures["rounds"] == [
        {"counts": counts(A=5, B=1, C=1, D=4), "exhausted": 0, "eliminated": [B, C]},
        {"counts": counts(A=5, D=6), "exhausted": 0, "eliminated": []},
    ]
    assert (figures["winner"], figures["tied"]) == (D, [])


def test_a_tie_for_the_win():
    # Round 1: A2 B2 C1: C goes, exhausted. Round 2: A2 B2, tied in round 1 too, equal Borda
    # (n = 3: 4 each): a tie for the win.
    figures = results(spec("ranked"), ballots(*times(2, [A]), *times(2, [B]), [C]))
    assert figures["rounds"] == [
        {"counts": counts(A=2, B=2, C=1), "exhausted": 0, "eliminated": [C]},
        {"counts": counts(A=2, B=2), "exhausted": 1, "eliminated": []},
    ]
    assert (figures["winner"], figures["tied"]) == (None, [A, B])


def test_every_ballot_exhausted_means_no_winner():
    # Ballots naming only options that are no longer in the poll: nothing to count.
    figures = results(spec("ranked", 2), ballots([7], [8, 9]))
    assert figures["rounds"] == [{"counts": counts(A=0, B=0), "exhausted": 2, "eliminated": []}]
    assert (figures["winner"], figures["tied"]) == (None, [])


# --- Breakdown -------------------------------------------------------------------------------

def by_country(**sizes):
    votes = []
    for code, n in sizes.items():
        votes += ballots(*times(n, [1]), country="" if code == "none" else code)
    return votes


def shape(result):
    return [(g["code"], g["voters"], g["suppressed"]) for g in result["groups"]]


def test_breakdown_gives_each_groups_results():
    s = spec("single", 2)
    votes = (ballots(*times(4, [1]), [2], country="DE", organisation_type="ngo")
             + ballots(*times(5, [2]), country="FR", organisation_type="ngo")
             + ballots(*times(5, [2]), country="", organisation_type="business"))
    result = breakdown(s, votes, "country")
    assert (result["by"], result["min_group"], result["suppressed_voters"]) == ("country", 5, 0)
    assert shape(result) == [("DE", 5, False), ("FR", 5, False), ("", 5, False)]  # "not stated" last
    assert result["groups"][0]["results"] == results(s, votes[:5])
    assert [o["votes"] for o in result["groups"][0]["results"]["options"]] == [4, 1]
    by_type = breakdown(s, votes, "organisation_type")
    assert shape(by_type) == [("ngo", 10, False), ("business", 5, False)]
    assert [o["votes"] for o in by_type["groups"][0]["results"]["options"]] == [4, 6]


def test_small_groups_are_suppressed_without_their_number_of_voters():
    result = breakdown(spec("single"), by_country(DE=9, FR=6, IT=3, none=2), "country")
    # IT and "" hold 5 together: enough, no other group is hidden.
    assert shape(result) == [("DE", 9, False), ("FR", 6, False), ("IT", None, True), ("", None, True)]
    assert [g["results"] is None for g in result["groups"]] == [False, False, True, True]
    assert result["suppressed_voters"] == 5


def test_small_groups_take_the_next_smallest_until_they_hold_min_group():
    # IT's 2 and ""'s 1 would be the whole minus DE minus FR: 3 voters, who could work out
    # each other's votes. FR (the next smallest) is hidden too: 8 together.
    result = breakdown(spec("single"), by_country(DE=6, FR=5, IT=2, none=1), "country")
    assert shape(result) == [("DE", 6, False), ("FR", None, True), ("IT", None, True), ("", None, True)]
    assert result["suppressed_voters"] == 8


def test_one_small_group_takes_the_next_smallest_with_it():
    result = breakdown(spec("single"), by_country(DE=7, FR=5, IT=2), "country")
    # Suppressed groups come after the shown ones, by code: their order says nothing of size.
    assert shape(result) == [("DE", 7, False), ("FR", None, True), ("IT", None, True)]
    assert result["suppressed_voters"] == 7


def test_two_tiny_groups_are_not_enough_together():
    result = breakdown(spec("single"), by_country(DE=9, FR=8, AT=7, IT=1, MT=1), "country")
    assert shape(result) == [("DE", 9, False), ("FR", 8, False), ("AT", None, True), ("IT", None, True),
                             ("MT", None, True)]
    assert result["suppressed_voters"] == 9


def test_the_next_smallest_among_equals_is_one_of_them_only():
    result = breakdown(spec("single"), by_country(DE=7, FR=6, AT=6, IT=4), "country")
    assert shape(result) == [("DE", 7, False), ("AT", 6, False), ("FR", None, True), ("IT", None, True)]


def test_two_groups_one_small_hides_both():
    result = breakdown(spec("single"), by_country(DE=20, none=1), "country")
    assert shape(result) == [("DE", None, True), ("", None, True)]
    assert result["suppressed_voters"] == 21


def test_a_single_group_is_suppressed_only_if_small():
    assert shape(breakdown(spec("single"), by_country(DE=4), "country")) == [("DE", None, True)]
    assert shape(breakdown(spec("single"), by_country(DE=5), "country")) == [("DE", 5, False)]
    assert breakdown(spec("single"), [], "country") == {"by": "country", "min_group": 5, "groups": [],
                                                        "suppressed_voters": 0}


def test_min_group_is_a_parameter():
    result = breakdown(spec("single"), by_country(DE=3, FR=2), "country", min_group=2)
    assert shape(result) == [("DE", 3, False), ("FR", 2, False)]
    assert shape(breakdown(spec("single"), by_country(DE=3, FR=2), "country", min_group=3)) == [
        ("DE", None, True), ("FR", None, True)]
    with pytest.raises(ValueError):
        breakdown(spec("single"), [], "country", min_group=0)
    with pytest.raises(ValueError):
        breakdown(spec("single"), [], "email")


# --- Properties ------------------------------------------------------------------------------

OPTIONS = st.integers(min_value=1, max_value=6)


@st.composite
def ranked_case(draw):
    n = draw(OPTIONS)
    ids = list(range(1, n + 1))
    rankings = draw(st.lists(st.permutations(ids).flatmap(
        lambda order: st.integers(min_value=1, max_value=len(order)).map(lambda k: order[:k])), max_size=40))
    return spec("ranked", n), ballots(*rankings)


@given(ranked_case())
@PROPERTY
def test_instant_runoff_properties(case):
    s, votes = case
    figures = results(s, votes)
    rounds = figures["rounds"]
    eliminated = set()
    for round_ in rounds:
        continuing = {int(key) for key in round_["counts"]}
        assert not continuing & eliminated  # an eliminated option never comes back
        assert sum(round_["counts"].values()) + round_["exhausted"] == len(votes)
        eliminated |= set(round_["eliminated"])
    for earlier, later in pairwise(rounds):
        assert earlier["eliminated"] and later["exhausted"] >= earlier["exhausted"]
        for key, n in later["counts"].items():
            assert n >= earlier["counts"][key]  # continuing options only gain ballots
    if figures["winner"] is not None:
        last = rounds[-1]["counts"]
        assert last[str(figures["winner"])] * 2 > sum(last.values())
        assert figures["tied"] == [] and rounds[-1]["eliminated"] == []
    elif votes and rounds[-1]["exhausted"] < len(votes):
        assert len(figures["tied"]) >= 2
    # Borda: a ballot ranking k of n options gives (n-1) + ... + (n-k) points.
    n = len(s.option_ids)
    assert sum(b["points"] for b in figures["borda"]) == sum(
        sum(n - 1 - place for place in range(len(v.choice))) for v in votes)
    # The order of the ballots changes nothing.
    assert results(s, list(reversed(votes))) == figures


@given(st.data())
@PROPERTY
def test_shares_add_up(data):
    n = data.draw(OPTIONS)
    ids = list(range(1, n + 1))
    single = [[data.draw(st.sampled_from(ids))] for _ in range(data.draw(st.integers(0, 30)))]
    figures = results(spec("single", n), ballots(*single))
    assert sum(o["votes"] for o in figures["options"]) == len(single)
    if single:
        assert sum(o["share"] for o in figures["options"]) == pytest.approx(1)
    multiple = data.draw(st.lists(st.lists(st.sampled_from(ids), min_size=1, unique=True), max_size=30))
    figures = results(spec("multiple", n), ballots(*multiple))
    assert sum(o["votes"] for o in figures["options"]) == sum(map(len, multiple))
    assert all(0 <= o["share"] <= 1 for o in figures["options"])
    dots = data.draw(st.lists(st.dictionaries(st.sampled_from([str(i) for i in ids]),
                                              st.integers(1, 10), min_size=1), max_size=30))
    figures = results(spec("dots", n, points=60), ballots(*dots))
    assert figures["points_given"] == sum(sum(d.values()) for d in dots)
    if dots:
        assert sum(o["share"] for o in figures["options"]) == pytest.approx(1)


@given(st.data())
@PROPERTY
def test_score_figures_agree_with_each_other(data):
    low = data.draw(st.integers(-3, 3))
    high = data.draw(st.integers(low, low + 6))
    n = data.draw(OPTIONS)
    raw = data.draw(st.lists(st.dictionaries(st.sampled_from([str(i) for i in range(1, n + 1)]),
                                             st.integers(low, high), min_size=1), max_size=30))
    s = spec("score", n, scale_min=low, scale_max=high)
    figures = results(s, ballots(*[check_ballot(s, r) for r in raw]))
    for option in figures["options"]:
        assert list(option["distribution"]) == [str(v) for v in range(low, high + 1)]
        assert sum(option["distribution"].values()) == option["ratings"]
        if option["ratings"]:
            assert low <= option["mean"] <= high
        else:
            assert option["mean"] is None


@given(st.data())
@PROPERTY
def test_checked_ballots_are_checked_again_unchanged(data):
    n = data.draw(st.integers(2, 6))
    ids = list(range(1, n + 1))
    id_text = st.sampled_from(ids).flatmap(lambda i: st.sampled_from([i, str(i)]))
    cases = [
        (spec("single", n), id_text),
        (spec("multiple", n), st.lists(st.sampled_from(ids), min_size=1, unique=True)),
        (spec("ranked", n), st.permutations(ids).flatmap(lambda order: st.integers(1, n).map(lambda k: order[:k]))),
        (spec("score", n, scale_min=1, scale_max=5),
         st.dictionaries(st.sampled_from([str(i) for i in ids]), st.integers(1, 5), min_size=1)),
        (spec("dots", n, points=n * 3),
         st.dictionaries(st.sampled_from([str(i) for i in ids]), st.integers(1, 3), min_size=1)),
    ]
    for s, strategy in cases:
        stored = check_ballot(s, data.draw(strategy))
        assert check_ballot(s, stored) == stored
        assert check_ballot(s, json.loads(json.dumps(stored))) == stored


@given(st.dictionaries(st.sampled_from(["AT", "DE", "FR", "IT", "", "MT"]), st.integers(1, 9), min_size=1))
@PROPERTY
def test_breakdown_never_lets_a_small_group_be_worked_out(sizes):
    votes = []
    for code, n in sizes.items():
        votes += ballots(*times(n, [1]), country=code)
    result = breakdown(spec("single"), votes, "country")
    suppressed = [g for g in result["groups"] if g["suppressed"]]
    shown = [g for g in result["groups"] if not g["suppressed"]]
    assert len(suppressed) != 1 or len(result["groups"]) == 1
    assert all(g["voters"] is None and g["results"] is None for g in suppressed)
    assert all(g["voters"] >= 5 for g in shown)
    # What the shown groups leave of the whole: none, or at least min_group voters (unless
    # the whole poll is smaller, and every group is hidden).
    rest = len(votes) - sum(g["voters"] for g in shown)
    assert result["suppressed_voters"] == rest
    assert rest == 0 or rest >= 5 or not shown
    assert {g["code"] for g in result["groups"]} == set(sizes)
