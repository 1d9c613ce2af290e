"""Poll arithmetic: checking a ballot, and the results of a poll's ballots.

Pure: no database and no Flask app (messages are lazy translations, read when shown). The
polls service calls `check_ballot` before it stores a vote and `results` / `breakdown` over the
stored ballots; exports and live results use the same functions, so every place shows the same
figures. docs/polls.md ("Results and how they are computed") explains them to organisers.

Ballots (PollVote.choice) by kind, option ids as list items or as JSON object keys (strings):
    single [id]; multiple [id, ...]; score {"id": score, ...}; ranked [id, ...] best first;
    dots {"id": points, ...}.

Results (JSON-able; option ids are ints, except as keys of a round's "counts", which are strings
so that a result reads the same after a trip through JSON); every result has "kind" and
"voters", and lists its options in the poll's order:
    single, multiple  {"options": [{"id", "votes", "share"}]}, share = votes / voters
    score             {"options": [{"id", "ratings", "mean", "distribution": {"1": n, ...}}]}
    ranked            {"borda": [{"id", "points"}], "rounds": [{"counts", "exhausted",
                       "eliminated"}], "winner": id | None, "tied": [ids]}
    dots              {"options": [{"id", "points", "share"}], "points_given": n}

Instant-runoff (ranked): each round counts every ballot for its highest-ranked option still
in the count; a ballot with none left is exhausted (counted per round). An option with more
than half of the round's non-exhausted ballots wins. Otherwise the option with the fewest
votes is eliminated; options with no votes at all are eliminated together. A tie for the
fewest is broken by the previous round (the one with fewer votes there goes), then the round
before, back to the first, then by fewer Borda points. If that leaves several options tied
and, together, they hold fewer votes than any other option, they are eliminated together
(in whatever order they went, none of them could overtake another option, so the outcome is
the same); otherwise the count stops: "tied" names them and "winner" is None. Two options
left with the same votes and no rule to separate them are such a tie, for the win.
"""
from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext

from forum.services.errors import ValidationError

KINDS = ("single", "multiple", "score", "ranked", "dots")
BREAKDOWN_BY = ("country", "organisation_type")
MIN_GROUP = 5  # fewer voters than this in a group, and its figures are not shown

_INTEGER = re.compile(r"-?[0-9]{1,12}")  # ASCII digits only; longer is no id or score of ours


@dataclass(frozen=True)
class Spec:
    """What the arithmetic needs to know of a poll."""
    kind: str
    option_ids: tuple[int, ...]  # in position order
    max_choices: int | None = None  # multiple: at most this many (None: any number)
    scale_min: int = 1  # score
    scale_max: int = 5
    points: int | None = None  # dots: the points each voter spreads


def spec_of(poll) -> Spec:
    """The Spec of a Poll (or anything with its attributes and `options` with `id` and `position`)."""
    kind = getattr(poll.kind, "value", poll.kind)
    options = sorted(poll.options, key=lambda option: option.position)
    return Spec(kind=str(kind), option_ids=tuple(option.id for option in options),
                max_choices=poll.max_choices, scale_min=poll.scale_min, scale_max=poll.scale_max,
                points=poll.points)


@dataclass(frozen=True)
class Ballot:
    """One stored vote, with the voter's country and organisation type when they voted."""
    choice: Any
    country: str = ""
    organisation_type: str = ""


# --- Checking a ballot -----------------------------------------------------------------------

def _invalid(message, spec: Spec | None = None, option_id: int | None = None) -> ValidationError:
    """The refusal, named after the field at fault: the option's own ("score-12", "rank-12",
    "points-12": the vote form's names, templates/polls/_vote_form.html) when one option's
    answer is wrong, else the ballot as a whole ("choice")."""
    if spec is not None and option_id is not None and spec.kind in OPTION_FIELDS:
        return ValidationError(message, field=f"{OPTION_FIELDS[spec.kind]}-{option_id}")
    return ValidationError(message, field="choice")


# The vote form's field for one option's answer, by kind: its name is this and the option's id.
OPTION_FIELDS = {"score": "score", "ranked": "rank", "dots": "points"}


MALFORMED = _l("This answer is not in the expected form. Please answer again.")
NOT_AN_OPTION = _l("This option is not part of the poll.")


def _integer(value) -> int | None:
    """A whole number: an int (not a bool, which Python counts as one) or a string of ASCII
    digits as a form sends it. None for anything else (floats too: 2.0 is sent by no form)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
        return int(value.strip())
    return None


def _option(spec: Spec, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise _invalid(MALFORMED)
    option_id = _integer(value)
    if option_id is None or option_id not in spec.option_ids:
        raise _invalid(NOT_AN_OPTION)
    return option_id


def _blank(value) -> bool:
    """An option left without a score, points or rank (a form's empty field)."""
    return value is None or (isinstance(value, str) and not value.strip())


def check_ballot(spec: Spec, raw) -> Any:
    """The ballot `raw` (parsed JSON, or a form's values) checked against `spec` and written as
    PollVote.choice stores it. Raises ValidationError (field "choice") with a message for the voter.

    Accepted besides the stored shapes: for single, one id alone; for score and dots, blank
    values (None or "") meaning "not rated" / no points; for ranked, {"id": rank} with
    distinct ranks from 1 (blanks left unranked), as a form with one rank field per option sends.
    Ids and numbers may be ints or strings of digits; never bools or floats."""
    if spec.kind not in KINDS:
        raise ValueError(f"unknown poll kind {spec.kind!r}")
    return _CHECKS[spec.kind](spec, raw)


def _check_single(spec: Spec, raw) -> list[int]:
    if isinstance(raw, (list, tuple)):
        if not raw:
            raise _invalid(_l("Choose an option."))
        if len(raw) > 1:
            raise _invalid(_l("Choose only one option."))
        raw = raw[0]
    if _blank(raw):
        raise _invalid(_l("Choose an option."))
    return [_option(spec, raw)]


def _check_multiple(spec: Spec, raw) -> list[int]:
    if not isinstance(raw, (list, tuple)):
        raise _invalid(MALFORMED)
    limit = spec.max_choices
    if limit is not None and len(raw) > limit:
        raise _invalid(lazy_ngettext("Choose at most %(num)d option.", "Choose at most %(num)d options.", limit))
    if len(raw) > len(spec.option_ids):
        raise _invalid(_l("Choose each option only once."))
    chosen = [_option(spec, item) for item in raw]
    if not chosen:
        raise _invalid(_l("Choose at least one option."))
    if len(set(chosen)) != len(chosen):
        raise _invalid(_l("Choose each option only once."))
    return [option_id for option_id in spec.option_ids if option_id in chosen]


def _numbers_by_option(spec: Spec, raw) -> dict[int, Any]:
    """{option id: value} from a JSON object, blank values left out, ids checked."""
    if not isinstance(raw, Mapping):
        raise _invalid(MALFORMED)
    if len(raw) > len(spec.option_ids):
        raise _invalid(NOT_AN_OPTION)
    values: dict[int, Any] = {}
    for key, value in raw.items():
        option_id = _option(spec, key)
        if option_id in values:  # "3" and 3 in one dict
            raise _invalid(_l("Answer for each option only once."))
        if not _blank(value):
            values[option_id] = value
    return values


def _check_score(spec: Spec, raw) -> dict[str, int]:
    scores = {}
    for option_id, value in _numbers_by_option(spec, raw).items():
        score = _integer(value)
        if score is None or not spec.scale_min <= score <= spec.scale_max:
            raise _invalid(_l("Scores are whole numbers from %(min)d to %(max)d.",
                              min=spec.scale_min, max=spec.scale_max), spec, option_id)
        scores[option_id] = score
    if not scores:
        raise _invalid(_l("Rate at least one option."))
    return {str(option_id): scores[option_id] for option_id in spec.option_ids if option_id in scores}


def _check_dots(spec: Spec, raw) -> dict[str, int]:
    given = {}
    for option_id, value in _numbers_by_option(spec, raw).items():
        points = _integer(value)
        if points is None or points < 0:
            raise _invalid(_l("Points are whole numbers, zero or more."), spec, option_id)
        if points:
            given[option_id] = points
    total = spec.points or 0
    if sum(given.values()) > total:
        raise _invalid(lazy_ngettext("You gave %(given)d points: spread at most %(num)d point.",
                                     "You gave %(given)d points: spread at most %(num)d points.", total,
                                     given=sum(given.values())))
    if not given:
        raise _invalid(_l("Give at least one point to an option."))
    return {str(option_id): given[option_id] for option_id in spec.option_ids if option_id in given}


def _check_ranked(spec: Spec, raw) -> list[int]:
    if isinstance(raw, Mapping):
        ranks = {}
        for option_id, value in _numbers_by_option(spec, raw).items():
            rank = _integer(value)
            if rank is None or rank < 1:
                raise _invalid(_l("Ranks are whole numbers from 1 up."), spec, option_id)
            if rank in ranks.values():
                raise _invalid(_l("Give each option a different rank."), spec, option_id)
            ranks[option_id] = rank
        raw = sorted(ranks, key=ranks.__getitem__)
    if not isinstance(raw, (list, tuple)):
        raise _invalid(MALFORMED)
    if len(raw) > len(spec.option_ids):
        raise _invalid(_l("Rank each option only once."))
    ranking = [_option(spec, item) for item in raw]
    if not ranking:
        raise _invalid(_l("Rank at least one option."))
    if len(set(ranking)) != len(ranking):
        raise _invalid(_l("Rank each option only once."))
    return ranking


_CHECKS = {"single": _check_single, "multiple": _check_multiple, "score": _check_score,
           "ranked": _check_ranked, "dots": _check_dots}


# --- Reading stored ballots ------------------------------------------------------------------
# Stored ballots were checked when cast; reading stays lenient all the same (an id that is no
# longer an option, a value of the wrong type is skipped), so results never fail on old data.

def stored_ids(spec: Spec, choice) -> list[int]:
    """The option ids of a stored single, multiple or ranked ballot, in its order."""
    known = set(spec.option_ids)
    if not isinstance(choice, (list, tuple)):
        choice = [choice]
    seen: list[int] = []
    for item in choice:
        option_id = _integer(item) if isinstance(item, (int, str)) else None
        if option_id in known and option_id not in seen:
            seen.append(option_id)
    return seen


def stored_values(spec: Spec, choice) -> dict[int, int]:
    """{option id: score or points} of a stored score or dots ballot."""
    known = set(spec.option_ids)
    if not isinstance(choice, Mapping):
        return {}
    values = {}
    for key, value in choice.items():
        option_id = _integer(key) if isinstance(key, (int, str)) else None
        number = _integer(value)
        if option_id in known and number is not None:
            values[option_id] = number
    return values


# --- Results ---------------------------------------------------------------------------------

def _share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def results(spec: Spec, ballots: Sequence[Ballot]) -> dict:
    """The figures of `ballots` (see the module's docstring for their shape)."""
    if spec.kind not in KINDS:
        raise ValueError(f"unknown poll kind {spec.kind!r}")
    choices = [ballot.choice for ballot in ballots]
    figures = _RESULTS[spec.kind](spec, choices)
    return {"kind": spec.kind, "voters": len(choices), **figures}


def _choice_results(spec: Spec, choices: list) -> dict:
    votes: Counter[int] = Counter()
    for choice in choices:
        votes.update(stored_ids(spec, choice)[:1] if spec.kind == "single" else stored_ids(spec, choice))
    return {"options": [{"id": option_id, "votes": votes[option_id], "share": _share(votes[option_id], len(choices))}
                        for option_id in spec.option_ids]}


def _score_results(spec: Spec, choices: list) -> dict:
    scale = range(spec.scale_min, spec.scale_max + 1)
    distribution: dict[int, Counter[int]] = defaultdict(Counter)
    for choice in choices:
        for option_id, score in stored_values(spec, choice).items():
            if score in scale:
                distribution[option_id][score] += 1
    options = []
    for option_id in spec.option_ids:
        counts = distribution[option_id]
        ratings = sum(counts.values())
        mean = sum(score * n for score, n in counts.items()) / ratings if ratings else None
        options.append({"id": option_id, "ratings": ratings, "mean": mean,
                        "distribution": {str(score): counts[score] for score in scale}})
    return {"options": options}


def _dots_results(spec: Spec, choices: list) -> dict:
    points: Counter[int] = Counter()
    for choice in choices:
        points.update({option_id: n for option_id, n in stored_values(spec, choice).items() if n > 0})
    given = sum(points.values())
    return {"options": [{"id": option_id, "points": points[option_id], "share": _share(points[option_id], given)}
                        for option_id in spec.option_ids],
            "points_given": given}


def _ranked_results(spec: Spec, choices: list) -> dict:
    rankings = Counter(tuple(stored_ids(spec, choice)) for choice in choices)
    n = len(spec.option_ids)
    borda: Counter[int] = Counter()
    for ranking, count in rankings.items():
        for place, option_id in enumerate(ranking):
            borda[option_id] += (n - 1 - place) * count
    rounds, winner, tied = instant_runoff(spec.option_ids, rankings, borda)
    return {"borda": [{"id": option_id, "points": borda[option_id]} for option_id in spec.option_ids],
            "rounds": rounds, "winner": winner, "tied": tied}


def instant_runoff(option_ids: Sequence[int], rankings: Mapping[tuple[int, ...], int],
                   borda: Mapping[int, int]) -> tuple[list[dict], int | None, list[int]]:
    """The rounds of an instant-runoff count (module docstring), the winner and the options
    left tied. `rankings` maps each distinct ranking (best first) to how many ballots hold it."""
    continuing = list(option_ids)
    history: list[dict[int, int]] = []  # each round's votes per continuing option
    rounds: list[dict] = []
    if not rankings:
        return rounds, None, []
    while continuing:
        alive = set(continuing)
        counts = dict.fromkeys(continuing, 0)
        exhausted = 0
        for ranking, number in rankings.items():
            top = next((option_id for option_id in ranking if option_id in alive), None)
            if top is None:
                exhausted += number
            else:
                counts[top] += number
        history.append(counts)
        record = {"counts": {str(option_id): counts[option_id] for option_id in continuing},
                  "exhausted": exhausted, "eliminated": []}
        rounds.append(record)
        active = sum(counts.values())
        if active == 0:  # every ballot is exhausted: nobody can win
            return rounds, None, []
        leader = max(continuing, key=counts.__getitem__)
        if counts[leader] * 2 > active:
            return rounds, leader, []
        out, tied = _to_eliminate(continuing, history, borda)
        if tied:
            return rounds, None, tied
        record["eliminated"] = out
        continuing = [option_id for option_id in continuing if option_id not in out]
    return rounds, None, []  # pragma: no cover (a round with votes always ends or eliminates)


def _tie_break(tied: list[int], history: list[dict[int, int]], borda: Mapping[int, int]) -> list[int]:
    """Those of `tied` that the rule cannot separate: fewer votes in the previous round, then
    the one before, ..., then fewer Borda points."""
    for counts in reversed(history[:-1]):
        fewest = min(counts[option_id] for option_id in tied)
        tied = [option_id for option_id in tied if counts[option_id] == fewest]
        if len(tied) == 1:
            return tied
    fewest = min(borda.get(option_id, 0) for option_id in tied)
    return [option_id for option_id in tied if borda.get(option_id, 0) == fewest]


def _to_eliminate(continuing: list[int], history: list[dict[int, int]],
                  borda: Mapping[int, int]) -> tuple[list[int], list[int]]:
    """(who leaves the count after this round, []) or ([], the options of a tie no rule breaks),
    both in option order."""
    counts = history[-1]
    fewest = min(counts.values())
    lowest = [option_id for option_id in continuing if counts[option_id] == fewest]
    if fewest == 0:  # they hold no ballot: eliminating them moves none
        return lowest, []
    tied = lowest if len(lowest) == 1 else _tie_break(lowest, history, borda)
    if len(tied) == 1:
        return tied, []
    others = [counts[option_id] for option_id in continuing if option_id not in tied]
    if others and sum(counts[option_id] for option_id in tied) < min(others):
        return tied, []
    return [], tied


_RESULTS = {"single": _choice_results, "multiple": _choice_results, "score": _score_results,
            "ranked": _ranked_results, "dots": _dots_results}


# --- Breakdown by group ----------------------------------------------------------------------

def breakdown(spec: Spec, ballots: Iterable[Ballot], by: str, min_group: int = MIN_GROUP) -> dict:
    """The results per country or organisation type (`by`) of the voters, as they were when
    they voted; "" is the group of those who did not say.

    A group of fewer than `min_group` voters is suppressed: neither its figures nor its
    number of voters are given ("voters" is None). Then the next smallest groups are
    suppressed too, one by one, until the suppressed groups hold at least `min_group` voters
    together (or every group is suppressed): the poll's results minus those of the groups
    shown are the figures of the suppressed voters together, so they must be as many as a
    group that may be shown. `suppressed_voters` is thus 0 or at least `min_group` (unless
    the poll itself has fewer voters, all suppressed). Shown groups are listed largest first
    ("" last of them), then the suppressed ones by code ("" last), so that their place in the
    list says nothing of their size."""
    if by not in BREAKDOWN_BY:
        raise ValueError(f"no breakdown by {by!r}")
    if min_group < 1:
        raise ValueError("min_group must be at least 1")
    grouped: dict[str, list[Ballot]] = defaultdict(list)
    for ballot in ballots:
        grouped[getattr(ballot, by) or ""].append(ballot)
    suppressed = suppressed_groups({code: len(members) for code, members in grouped.items()}, min_group)
    shown = sorted((code for code in grouped if code not in suppressed),
                   key=lambda code: (code == "", -len(grouped[code]), code))
    hidden = sorted(suppressed, key=lambda code: (code == "", code))
    groups = [{"code": code, "voters": len(grouped[code]), "suppressed": False,
               "results": results(spec, grouped[code])} for code in shown]
    groups += [{"code": code, "voters": None, "suppressed": True, "results": None} for code in hidden]
    return {"by": by, "min_group": min_group, "groups": groups,
            "suppressed_voters": sum(len(grouped[code]) for code in suppressed)}


def suppressed_groups(sizes: Mapping[str, int], min_group: int = MIN_GROUP) -> set[str]:
    """The codes of `sizes` (code -> voters) whose figures may not be shown: those under
    `min_group`, and, while they hold fewer than `min_group` voters together, the next
    smallest (ties: "" first, then the last code)."""
    suppressed = {code for code, size in sizes.items() if size < min_group}
    if not suppressed:
        return suppressed
    rest = sorted((code for code in sizes if code not in suppressed),
                  key=lambda code: (sizes[code], code != "", [-ord(c) for c in code]))
    while sum(sizes[code] for code in suppressed) < min_group and rest:
        suppressed.add(rest.pop(0))
    return suppressed
