"""The opinion map (forum/services/opinion_map.py) on synthetic matrices with planted opinion
groups: it recovers them, is deterministic, and says sensible things about the statements."""
from __future__ import annotations

import json
import random
from collections import Counter

import pytest
from sklearn.metrics import adjusted_rand_score

from forum.services.opinion_map import (
    DIVISIVE_MAX,
    FEW_VOTES,
    MIN_GROUP,
    compute,
    planted_votes,
    statement_order,
)

AGREE, DISAGREE, PASS = 1, -1, 0


def group_of(opinion_map: dict) -> dict[int, int]:
    return {point["p"]: point["group"] for point in opinion_map["points"]}


def planted_to_found(opinion_map: dict, truth: dict[int, int]) -> dict[int, int]:
    """Each planted group -> the map's group most of its members landed in."""
    found = group_of(opinion_map)
    votes: dict[int, Counter] = {}
    for key, planted in truth.items():
        if key in found:
            votes.setdefault(planted, Counter())[found[key]] += 1
    return {planted: counter.most_common(1)[0][0] for planted, counter in votes.items()}


def ari(opinion_map: dict, truth: dict[int, int]) -> float:
    found = group_of(opinion_map)
    keys = sorted(found)
    return adjusted_rand_score([truth[k] for k in keys], [found[k] for k in keys])


@pytest.mark.parametrize("seed", range(5))
def test_recovers_planted_groups(seed):
    votes, truth = planted_votes((100, 100, 100), 40, density=(0.3, 0.6), noise=0.1, seed=seed)
    opinion_map = compute(votes, seed=seed)
    assert opinion_map["k"] == 3
    assert opinion_map["participants"] == 300
    assert ari(opinion_map, truth) >= 0.9


def test_recovers_unequal_groups():
    votes, truth = planted_votes((160, 90, 50), 40, seed=11)
    opinion_map = compute(votes)
    assert opinion_map["k"] == 3
    assert ari(opinion_map, truth) >= 0.9
    # Numbered by size, largest first.
    assert [g["size"] for g in opinion_map["groups"]] == sorted((g["size"] for g in opinion_map["groups"]),
                                                                reverse=True)
    assert [g["label"] for g in opinion_map["groups"]] == ["A", "B", "C"]


@pytest.mark.parametrize("sizes", [(80, 80, 80, 80), (60, 60, 60, 60, 60)])
def test_recovers_four_and_five_groups(sizes):
    """Groups that differ off the map's plane too: k-means works on 4 components, where 2 would
    merge some (adjusted Rand index 0.5-0.7 on these matrices)."""
    for seed in range(2):
        votes, truth = planted_votes(sizes, 40, seed=seed)
        opinion_map = compute(votes)
        assert opinion_map["k"] == len(sizes)
        assert ari(opinion_map, truth) >= 0.9


def test_two_groups():
    votes, truth = planted_votes((120, 80), 30, seed=3)
    opinion_map = compute(votes)
    assert opinion_map["k"] == 2
    assert ari(opinion_map, truth) >= 0.9


def test_deterministic_whatever_the_order_of_the_votes():
    votes, _truth = planted_votes((80, 70, 60), 30, seed=5)
    groups_of = {key: ("DE", "ngo") for key, _s, _v in votes}
    first = compute(votes, groups_of)
    assert compute(votes, groups_of) == first
    shuffled = list(votes)
    random.Random(1).shuffle(shuffled)
    assert compute(shuffled, dict(reversed(list(groups_of.items())))) == first
    assert compute(iter(shuffled), groups_of) == first  # any iterable


def test_json_round_trip_keeps_the_map():
    """What the board stores (a JSON column) reads back equal: string keys, plain numbers."""
    votes, _truth = planted_votes((40, 40), 20, seed=2)
    opinion_map = compute(votes, {key: ("IT", "public") for key, _s, _v in votes})
    assert json.loads(json.dumps(opinion_map)) == opinion_map


def test_positions_are_scaled_into_the_unit_square():
    votes, _truth = planted_votes((60, 60, 60), 30, seed=7)
    points = compute(votes)["points"]
    coordinates = [c for p in points for c in (p["x"], p["y"])]
    assert max(abs(c) for c in coordinates) == 1.0
    assert all(-1.0 <= c <= 1.0 for c in coordinates)


def test_participants_with_too_few_votes_are_not_placed():
    votes, _truth = planted_votes((50, 50), 30, seed=4)
    # Three newcomers with 1, 6 and 7 votes.
    for key, n in ((9001, 1), (9002, 6), (9003, 7)):
        votes += [(key, 1 + s, AGREE) for s in range(n)]
    opinion_map = compute(votes)
    placed = group_of(opinion_map)
    assert 9001 not in placed and 9002 not in placed
    assert 9003 in placed
    assert opinion_map["participants"] == 101
    assert opinion_map["votes"] == len(votes)
    # A higher threshold leaves out more people.
    assert 9003 not in group_of(compute(votes, min_votes=8))


def test_fewer_statements_than_min_votes_places_those_who_voted_on_all():
    votes = [(p, s, AGREE if (p + s) % 2 else DISAGREE) for p in range(1, 11) for s in (1, 2, 3)]
    votes.append((99, 1, AGREE))
    opinion_map = compute(votes)
    assert opinion_map["participants"] == 10
    assert 99 not in group_of(opinion_map)


def test_sparse_voters_are_pushed_out_from_the_centre():
    """Someone who voted on a third of the statements, as someone who voted on all of them,
    would sit at a third of the other's distance from the centre; Pol.is' scaling by
    sqrt(statements / votes) puts them at sqrt(1/3) of it (0.58), on the same side."""
    stances = {s: (AGREE, DISAGREE) for s in range(30)}
    votes, truth = planted_votes((60, 60), 30, seed=8, noise=0.0, stances=stances)
    votes += [(5000, 1 + s, AGREE) for s in range(30)]
    votes += [(5001, 1 + s, AGREE) for s in range(0, 30, 3)]
    points = {p["p"]: p for p in compute(votes)["points"]}
    dense, sparse = points[5000], points[5001]
    assert abs(dense["x"]) == 1.0
    assert 0.5 < sparse["x"] / dense["x"] < 0.65


def stance_table(n_split: int = 10, n_common: int = 14) -> dict[int, tuple[int, int, int]]:
    """Statements 0.. n_common-1 held alike by the three groups (agreed or rejected by all),
    then n_split statements that split them (each group alone agreeing or alone rejecting)."""
    patterns = [(AGREE, DISAGREE, DISAGREE), (DISAGREE, AGREE, DISAGREE), (DISAGREE, DISAGREE, AGREE),
                (DISAGREE, AGREE, AGREE), (AGREE, DISAGREE, AGREE), (AGREE, AGREE, DISAGREE)]
    table = {s: (AGREE,) * 3 if s % 2 == 0 else (DISAGREE,) * 3 for s in range(n_common)}
    for i in range(n_split):
        table[n_common + i] = patterns[i % len(patterns)]
    return table


def test_consensus_is_group_aware():
    """A statement every group agrees with ranks ahead of one that only the largest group
    agrees with, though a majority of all voters agrees with the latter too."""
    stances = stance_table()
    all_agree, biggest_only = 0, 24
    stances[biggest_only] = (AGREE, DISAGREE, DISAGREE)
    votes, truth = planted_votes((180, 60, 60), 25, seed=9, stances=stances)
    overall = [v for _p, s, v in votes if s == 1 + biggest_only]
    assert overall.count(AGREE) > len(overall) / 2  # a naive majority would call it consensus
    opinion_map = compute(votes)
    consensus = [c["statement_id"] for c in opinion_map["consensus"]]
    assert 1 + all_agree in consensus
    assert 1 + biggest_only not in consensus
    scores = [c["score"] for c in opinion_map["consensus"]]
    assert scores == sorted(scores, reverse=True)
    # Every listed statement was planted as agreed by all.
    assert all(stances[s - 1] == (AGREE,) * 3 for s in consensus)
    # And what all reject is listed as such.
    rejected = [c["statement_id"] for c in opinion_map["consensus_disagree"]]
    assert 1 + 1 in rejected and all(stances[s - 1] == (DISAGREE,) * 3 for s in rejected)


def test_divisive_finds_the_planted_splits():
    stances = stance_table(n_split=DIVISIVE_MAX)
    votes, truth = planted_votes((100, 100, 100), len(stances), seed=10, stances=stances)
    opinion_map = compute(votes)
    assert opinion_map["k"] == 3
    divisive = {d["statement_id"]: d for d in opinion_map["divisive"]}
    splits = {1 + s for s, stance in stances.items() if len(set(stance)) > 1}
    assert set(divisive) == splits
    # The first split: group 0 alone agrees; its agree shares per group say so.
    mapping = planted_to_found(opinion_map, truth)
    first = divisive[1 + 14]["agree_by_group"]
    assert first[str(mapping[0])] > 0.8
    assert first[str(mapping[1])] < 0.2 and first[str(mapping[2])] < 0.2
    assert opinion_map["separation"][str(1 + 14)] == divisive[1 + 14]["score"]
    assert opinion_map["separation"][str(1)] < 0.25


def test_representative_statements_are_the_planted_ones():
    stances = stance_table(n_split=12)
    votes, truth = planted_votes((100, 100, 100), len(stances), seed=12, stances=stances)
    opinion_map = compute(votes)
    mapping = planted_to_found(opinion_map, truth)
    groups = {g["id"]: g for g in opinion_map["groups"]}
    for planted, found in mapping.items():
        representative = groups[found]["representative"]
        assert 1 <= len(representative) <= 5
        for item in representative:
            stance = stances[item["statement_id"] - 1]
            expected = AGREE if item["direction"] == "agree" else DISAGREE
            others = [stance[g] for g in range(3) if g != planted]
            # What this group thinks, and not what every group thinks.
            assert stance[planted] == expected
            assert expected not in others or len(set(others)) > 1
            assert item["votes"] > 0 and item["repness"] > 1
        # The best one is a statement this group alone agrees or alone disagrees with.
        best = stances[representative[0]["statement_id"] - 1]
        assert best.count(best[planted]) == 1


def test_make_up_by_country_and_organisation_type():
    votes, truth = planted_votes((50, 50), 20, seed=13)
    groups_of = {key: ("DE" if planted == 0 else "IT", "ngo" if key % 2 else "") for key, planted in truth.items()}
    opinion_map = compute(votes, groups_of)
    mapping = planted_to_found(opinion_map, truth)
    groups = {g["id"]: g for g in opinion_map["groups"]}
    placed = group_of(opinion_map)
    assert groups[mapping[0]]["countries"] == {"DE": sum(1 for k in placed if truth[k] == 0)}
    assert groups[mapping[1]]["countries"] == {"IT": sum(1 for k in placed if truth[k] == 1)}
    for group in groups.values():
        assert sum(group["organisation_types"].values()) == group["size"]
        assert set(group["organisation_types"]) == {"ngo", ""}
    # Without groups_of there is no make-up, but the map is the same otherwise.
    bare = compute(votes)
    assert all(g["countries"] == {} and g["organisation_types"] == {} for g in bare["groups"])
    assert bare["points"] == opinion_map["points"]


def assert_valid(opinion_map: dict) -> None:
    json.dumps(opinion_map)
    for key in ("participants", "statements", "votes", "k", "silhouette", "points", "groups", "consensus",
                "divisive"):
        assert key in opinion_map
    assert len(opinion_map["points"]) == opinion_map["participants"]
    assert len(opinion_map["groups"]) == opinion_map["k"]
    # Everyone placed is in a group, unless too few are placed for one (k = 0).
    assert sum(g["size"] for g in opinion_map["groups"]) == (opinion_map["participants"] if opinion_map["k"] else 0)
    assert all(g["size"] >= MIN_GROUP for g in opinion_map["groups"])


@pytest.mark.parametrize("votes, participants, k", [
    ([], 0, 0),                                                          # no votes
    ([(1, s, AGREE) for s in range(10)], 1, 0),                          # one participant: no group
    ([(p, s, PASS) for p in range(20) for s in range(10)], 20, 1),       # only passes
    ([(p, 1, AGREE if p % 2 else DISAGREE) for p in range(20)], 20, 2),  # one statement
    ([(p, 1, AGREE) for p in range(20)], 20, 1),                         # one statement, all agree
    ([(p, s, AGREE) for p in range(3) for s in range(10)], 3, 0),        # too few people for a group
    ([(p, s, (p + s) % 3 - 1) for p in range(3) for s in range(10)], 3, 0),
    ([(p, s, (p + s) % 3 - 1) for p in range(9) for s in range(10)], 9, 1),  # too few for two groups of 5
    ([(1, 1, AGREE), (2, 2, DISAGREE)], 0, 0),                           # one vote each of two: nobody placed
    ([(1, 1, AGREE), (2, 1, DISAGREE)], 2, 0),                           # one statement, two people
])
def test_degenerate_matrices_give_a_valid_map(votes, participants, k):
    opinion_map = compute(votes)
    assert_valid(opinion_map)
    assert opinion_map["participants"] == participants
    assert opinion_map["k"] == k
    if k < 2:
        assert opinion_map["silhouette"] is None
        assert opinion_map["divisive"] == []
        assert all(g["representative"] == [] for g in opinion_map["groups"])


def test_one_dissenter_is_no_group_of_their_own():
    """11 like-minded people and 1 dissenter: a group of 1 would show the dissenter's make-up
    and their vote on every statement (its agree shares). No group is smaller than 5: the
    dissenter is in the one group with everyone else, and what it shows are the shares of 12."""
    statements = range(1, 11)
    votes = [(p, s, AGREE) for p in range(1, 12) for s in statements]
    votes += [(99, s, DISAGREE) for s in statements]
    groups_of = {p: ("IT", "ngo") for p in range(1, 12)} | {99: ("MT", "business")}
    opinion_map = compute(votes, groups_of)
    assert_valid(opinion_map)
    assert opinion_map["participants"] == 12 and opinion_map["k"] == 1
    [group] = opinion_map["groups"]
    assert group["size"] == 12
    assert {p["p"]: p["group"] for p in opinion_map["points"]}[99] == group["id"]
    # The make-up pools the dissenter's country and type: nobody is named by them.
    assert group["countries"] == {"IT": 11} and group["countries_pooled"] == 1
    assert group["organisation_types"] == {"ngo": 11} and group["organisation_types_pooled"] == 1
    for item in opinion_map["consensus"]:
        assert item["agree_by_group"] == {"0": round(11 / 12, 4)}
    assert opinion_map["divisive"] == []


def test_groups_of_fewer_than_five_are_never_formed():
    """Two like-minded camps of 10 and a pair who disagree with both: k = 3 would make a group
    of 2, so the map keeps 2 groups (the pair in the nearer one)."""
    votes, _truth = planted_votes((10, 10, 2), 20, seed=3, noise=0.0, density=(0.9, 1.0))
    opinion_map = compute(votes)
    assert opinion_map["k"] >= 1
    assert all(g["size"] >= MIN_GROUP for g in opinion_map["groups"])
    assert sum(g["size"] for g in opinion_map["groups"]) == 22


def test_all_passes_put_everyone_at_the_centre():
    opinion_map = compute([(p, s, PASS) for p in range(20) for s in range(10)])
    assert {(p["x"], p["y"]) for p in opinion_map["points"]} == {(0.0, 0.0)}
    assert opinion_map["consensus"] == []  # nobody agreed with anything


def test_bad_votes_are_refused():
    with pytest.raises(ValueError):
        compute([(1, 1, 2)])
    with pytest.raises(ValueError):
        compute([(1, 1)])


def test_a_repeated_vote_counts_once_whatever_the_order():
    votes, _truth = planted_votes((30, 30), 15, seed=14)
    doubled = votes + [(votes[0][0], votes[0][1], -votes[0][2] or AGREE)]
    assert compute(doubled) == compute(list(reversed(doubled)))
    assert compute(doubled)["votes"] == len(votes)


# --- statement_order ---------------------------------------------------------------------

def test_order_few_votes_first_then_most_separating():
    counts = {1: 50, 2: 3, 3: 40, 4: 0, 5: 60, 6: 45}
    last_map = {"separation": {"1": 0.1, "3": 0.9, "5": 0.5, "6": 0.9}}
    assert statement_order(counts, last_map, seen={6}) == [4, 2, 3, 5, 1]


def test_order_without_a_map_goes_by_votes_then_id():
    counts = {7: 12, 3: 12, 9: 2, 1: FEW_VOTES}
    assert statement_order(counts, None, set()) == [9, 1, 3, 7]
    assert statement_order(counts, None, {1, 3, 7, 9}) == []


def test_order_uses_the_divisive_list_of_an_older_map():
    counts = {1: 20, 2: 20, 3: 20}
    last_map = {"divisive": [{"statement_id": 3, "score": 0.8, "agree_by_group": {}}]}
    assert statement_order(counts, last_map, set()) == [3, 1, 2]


def test_order_from_a_computed_map_puts_the_splits_first():
    stances = stance_table(n_split=6, n_common=14)
    votes, _truth = planted_votes((60, 60, 60), len(stances), seed=15, stances=stances)
    opinion_map = compute(json.loads(json.dumps(votes)))
    counts = Counter(s for _p, s, _v in votes)
    order = statement_order(counts, json.loads(json.dumps(opinion_map)), set())
    assert opinion_map["k"] == 3
    assert set(order[:6]) == set(range(15, 21))
