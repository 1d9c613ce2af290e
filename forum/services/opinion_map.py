"""The opinion map of a statements board, computed from its vote matrix as Pol.is computes it.

Pure: no database and no Flask app; numpy for the arithmetic and scikit-learn for PCA, k-means
and the silhouette. `compute(votes, groups_of)` returns the JSON-able map the board stores in
`OpinionBoard.map`; `statement_order(counts, last_map, seen)` is the order in which a participant
is shown the statements they have not voted on. docs/opinion-map.md explains the method (it
follows polismath's pca.clj, clusters.clj, repness.clj and conversation.clj where that made
sense, and says where it does not).

Determinism: the matrix is built sorted (participants by key, statements by id) whatever the
order of the votes, PCA is exact (the eigenvectors of the statements' covariance) with its signs
fixed here, k-means and the silhouette sample use a fixed seed, groups are numbered by size then
by their smallest participant key, and the figures are rounded. The same matrix gives the same
dict.

Vote values: +1 agree, -1 disagree, 0 pass. (Pol.is stores agree as -1; not here.)
"""
from __future__ import annotations

import itertools
import string
from collections import Counter
from collections.abc import Iterable, Mapping

import numpy as np
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.metrics import silhouette_score
from threadpoolctl import ThreadpoolController

MIN_VOTES = 7            # votes placed before someone is on the map (Pol.is: 7, or all statements if fewer)
K_RANGE = (2, 5)         # candidate numbers of opinion groups (Pol.is: 2..5)
CLUSTER_COMPONENTS = 4    # principal components k-means works on (k - 1 for 5 groups; the map shows 2)
MIN_GROUP = 5            # an opinion group has at least this many people; a country or type
                         # of organisation with fewer in a group is pooled in its make-up
N_INIT = 10              # k-means restarts (best inertia kept)
SILHOUETTE_SAMPLE = 2000  # above this many participants the silhouette is scored on a fixed sample
Z_90 = 1.2816            # one-sided 90 % for the z-tests (Pol.is' z-sig-90?)
REPRESENTATIVE_MAX = 5   # representative statements per group (Pol.is: 5)
CONSENSUS_MAX = 10       # statements in each consensus list
DIVISIVE_MAX = 10        # statements in the divisive list
DIVISIVE_MIN = 0.25      # least spread of agree shares between groups to call a statement divisive
FEW_VOTES = 10           # statement_order: statements with fewer votes are shown first
DIGITS = 4               # rounding of coordinates and shares in the map


# --- The matrix ----------------------------------------------------------------------------

class _Matrix:
    """Participants (rows, sorted keys) x statements (columns, sorted ids); NaN = not voted."""

    def __init__(self, votes: Iterable[tuple[int, int, int]]) -> None:
        flat = np.fromiter(itertools.chain.from_iterable(votes), dtype=np.int64)
        if flat.size % 3:
            raise ValueError("each vote is (participant_key, statement_id, value)")
        rows = flat.reshape(-1, 3)
        if rows.size and not np.isin(rows[:, 2], (-1, 0, 1)).all():
            raise ValueError("vote values are -1, 0 or +1")
        # One vote per participant and statement. The store guarantees it; should a caller
        # repeat one, the highest value wins, so the input order still does not matter.
        order = np.lexsort((rows[:, 2], rows[:, 1], rows[:, 0]))
        rows = rows[order]
        last = np.ones(len(rows), dtype=bool)
        if len(rows) > 1:
            last[:-1] = (rows[1:, 0] != rows[:-1, 0]) | (rows[1:, 1] != rows[:-1, 1])
        rows = rows[last]
        self.participants, p_index = np.unique(rows[:, 0], return_inverse=True)
        self.statements, s_index = np.unique(rows[:, 1], return_inverse=True)
        self.values = np.full((len(self.participants), len(self.statements)), np.nan)
        self.values[p_index, s_index] = rows[:, 2]
        self.n_votes = len(rows)


# --- Pol.is' statistics (polismath/math/stats.clj), vectorised ---------------------------------

def _prop_test(success: np.ndarray, n: np.ndarray) -> np.ndarray:
    """z of a share being above one half, with one pseudo-count (stats/prop-test)."""
    success, n = success + 1.0, n + 1.0
    return 2.0 * np.sqrt(n) * (success / n - 0.5)


def _two_prop_test(success_in: np.ndarray, success_out: np.ndarray, n_in: np.ndarray,
                   n_out: np.ndarray) -> np.ndarray:
    """z of the share in a group being above the share outside it (stats/two-prop-test)."""
    s1, s2, n1, n2 = success_in + 1.0, success_out + 1.0, n_in + 1.0, n_out + 1.0
    p1, p2, pooled = s1 / n1, s2 / n2, (s1 + s2) / (n1 + n2)
    spread = pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (p1 - p2) / np.sqrt(spread)
    return np.where(spread > 0, z, 0.0)  # everyone agreed, in and out: no evidence either way


# --- compute() -----------------------------------------------------------------------------

_controller: list[ThreadpoolController] = []


def _thread_pools() -> ThreadpoolController:
    """The process's native thread pools (OpenMP, BLAS), found once: looking for them scans
    every loaded library, which cost a tenth of a second per computation."""
    if not _controller:
        _controller.append(ThreadpoolController())
    return _controller[0]


def compute(votes: Iterable[tuple[int, int, int]], groups_of: Mapping[int, tuple[str, str]] | None = None,
            *, min_votes: int = MIN_VOTES, seed: int = 0) -> dict:
    """The opinion map of a vote matrix (docs/opinion-map.md describes every key).

    `votes`: (participant_key, statement_id, value) with value +1 agree, -1 disagree, 0 pass.
    `groups_of`: participant_key -> (country, organisation_type), for the groups' make-up.
    Never fails on a small or degenerate matrix (no votes, one participant, only passes...):
    it then places fewer people, makes one group or none, and leaves lists empty.

    Runs numpy's and scikit-learn's native code on one thread: the job worker that calls it
    shares the machine with the web server, and on a busy machine OpenMP threads made k-means
    ten times slower, not faster (bench/README.md)."""
    with _thread_pools().limit(limits=1):
        return _compute(votes, groups_of or {}, min_votes, seed)


def _compute(votes: Iterable[tuple[int, int, int]], groups_of: Mapping[int, tuple[str, str]], min_votes: int,
             seed: int) -> dict:
    matrix = _Matrix(votes)
    n_statements = len(matrix.statements)
    voted = ~np.isnan(matrix.values)
    counts = voted.sum(axis=1)
    # Pol.is: at least 7 votes, or every statement when there are fewer than 7.
    needed = max(1, min(min_votes, n_statements))
    placed = counts >= needed
    keys = matrix.participants[placed]
    values = matrix.values[placed]
    xy, space = _project(values, counts[placed], n_statements)
    labels, k, silhouette = _groups(space, keys, seed)
    tallies = _Tallies(values, labels, k)
    groups = _describe_groups(labels, k, keys, matrix.statements, tallies, groups_of)
    consensus, consensus_disagree, divisive, separation = _across_groups(matrix.statements, tallies)
    return {
        "min_group": MIN_GROUP,
        "participants": int(len(keys)),
        "statements": int(n_statements),
        "votes": int(matrix.n_votes),
        "k": int(k),
        "silhouette": silhouette,
        "points": [{"p": int(p), "x": float(x), "y": float(y), "group": int(g) if k else None}
                   for p, (x, y), g in zip(keys, xy, labels, strict=True)],
        "groups": groups,
        "consensus": consensus,
        "consensus_disagree": consensus_disagree,
        "divisive": divisive,
        "separation": separation,
    }


def _project(values: np.ndarray, counts: np.ndarray, n_statements: int) -> tuple[np.ndarray, np.ndarray]:
    """Each placed participant's 2-D position on the map, scaled into [-1, 1], and their
    position on the first CLUSTER_COMPONENTS components (same scale), where groups are found.

    Missing votes take the statement's mean (Pol.is' column averages), so after centring they
    count for nothing; a participant's projection is thus the sum over the statements they
    voted on, which Pol.is then pushes out by sqrt(statements / votes) so that someone who voted
    on a third of the statements is not drawn to the centre for it (sparsity-aware-project-ptpt)."""
    n = len(values)
    if n < 2 or n_statements == 0:
        return np.zeros((n, 2)), np.zeros((n, 2))
    means = _column_means(values)
    filled = np.where(np.isnan(values), means, values)
    if not np.any(np.abs(filled - means) > 1e-12):
        return np.zeros((n, 2)), np.zeros((n, 2))  # no one differs (say only passes): all at the centre
    components = min(CLUSTER_COMPONENTS, n, n_statements)
    # The eigenvectors of the statements' covariance (300 x 300 for 300 statements) rather than
    # an SVD of the whole matrix: exact, no randomness, and five times faster at 2,000 x 300.
    pca = PCA(n_components=components, svd_solver="covariance_eigh")
    projected = pca.fit_transform(filled)
    # Fix the signs (an SVD's are arbitrary): the statement weighing most on an axis points to +.
    for axis in range(components):
        loading = pca.components_[axis]
        if loading[int(np.argmax(np.abs(loading)))] < 0:
            projected[:, axis] = -projected[:, axis]
    projected *= np.sqrt(n_statements / np.maximum(counts, 1))[:, None]
    projected[np.abs(projected) < 1e-12] = 0.0  # no -0.0, and no noise around an axis without variance
    space = np.zeros((n, max(2, CLUSTER_COMPONENTS)))
    space[:, :components] = projected
    top = np.abs(space[:, :2]).max()
    if top > 0:
        space /= top  # one factor for every axis: the map keeps the spread of each
    return np.round(space[:, :2], DIGITS) + 0.0, space


def _column_means(values: np.ndarray) -> np.ndarray:
    """Each statement's mean vote among the placed (0 where none of them voted on it)."""
    voted = ~np.isnan(values)
    seen = voted.sum(axis=0)
    total = np.where(voted, values, 0.0).sum(axis=0)
    return np.divide(total, seen, out=np.zeros(values.shape[1]), where=seen > 0)


def _groups(space: np.ndarray, keys: np.ndarray, seed: int) -> tuple[np.ndarray, int, float | None]:
    """Opinion groups by k-means on the participants' first CLUSTER_COMPONENTS principal
    components, k from 2 to 5 by the best silhouette (ties: the smaller k), among the k whose
    every group has at least MIN_GROUP people: a group of one or two dissenters would make
    their votes readable in the group's shares (its make-up, its agree share per statement),
    so such a k is not taken. No such k (too few people, or distinct positions, for two
    groups of MIN_GROUP): everyone in one group (k = 1, no silhouette); fewer than MIN_GROUP
    placed: no group (k = 0). Groups are numbered 0, 1, ... by size, largest first, ties by
    smallest participant key."""
    n = len(space)
    if n < MIN_GROUP:
        return np.zeros(n, dtype=int), 0, None
    # Rounded, so that people who voted alike are one point whatever the arithmetic's last bits
    # (k-means warns when asked for more groups than distinct points).
    space = np.round(space, 6) + 0.0
    distinct = len(np.unique(space, axis=0))
    candidates = [k for k in range(K_RANGE[0], K_RANGE[1] + 1)
                  if k * MIN_GROUP <= n and k <= distinct and k < n]
    best: tuple[float, int, np.ndarray] | None = None
    for k in candidates:
        labels = KMeans(n_clusters=k, n_init=N_INIT, random_state=seed).fit_predict(space)
        sizes = np.bincount(labels, minlength=k)
        if np.count_nonzero(sizes) < 2 or sizes[sizes > 0].min() < MIN_GROUP:
            continue
        sample = SILHOUETTE_SAMPLE if n > SILHOUETTE_SAMPLE else None
        score = float(silhouette_score(space, labels, sample_size=sample, random_state=seed))
        if best is None or score > best[0] + 1e-9:
            best = (score, k, labels)
    if best is None:
        return np.zeros(n, dtype=int), 1, None
    score, k, labels = best
    # Renumber: largest first, then the group holding the smallest key (keys are sorted, so
    # the first row index of a group stands for its smallest key).
    found = np.unique(labels)
    order = sorted(found, key=lambda g: (-int(np.sum(labels == g)), int(np.argmax(labels == g))))
    renumber = {int(old): new for new, old in enumerate(order)}
    return np.array([renumber[int(g)] for g in labels], dtype=int), len(found), round(score, DIGITS)


class _Tallies:
    """Per group (rows) and statement (columns): agrees, disagrees, votes seen (passes count as seen)."""

    def __init__(self, values: np.ndarray, labels: np.ndarray, k: int) -> None:
        member = np.zeros((len(labels), k))
        if k:
            member[np.arange(len(labels)), labels] = 1.0
        self.agree = member.T @ (values == 1)
        self.disagree = member.T @ (values == -1)
        self.seen = member.T @ (~np.isnan(values))
        # Smoothed shares (Pol.is' pa, pd): (n + 1) / (seen + 2).
        self.pa = (self.agree + 1.0) / (self.seen + 2.0)
        self.pd = (self.disagree + 1.0) / (self.seen + 2.0)


def _share(part: float, whole: float) -> float | None:
    return None if whole == 0 else round(float(part / whole), DIGITS)


def _describe_groups(labels: np.ndarray, k: int, keys: np.ndarray, statements: np.ndarray, t: _Tallies,
                     groups_of: Mapping[int, tuple[str, str]]) -> list[dict]:
    representative = _representative(statements, t) if k >= 2 else [[] for _ in range(k)]
    groups = []
    for g in range(k):
        members = keys[labels == g]
        made_of = [groups_of.get(int(p), ("", "")) for p in members]
        countries, countries_pooled = pooled(Counter(country or "" for country, _type in made_of))
        types, types_pooled = pooled(Counter(kind or "" for _country, kind in made_of))
        groups.append({
            "id": g,
            "label": _label(g),
            "size": int(len(members)),
            "countries": countries if groups_of else {},
            "countries_pooled": countries_pooled if groups_of else 0,
            "organisation_types": types if groups_of else {},
            "organisation_types_pooled": types_pooled if groups_of else 0,
            "representative": representative[g],
        })
    return groups


def pooled(counts: Mapping[str, int]) -> tuple[dict[str, int], int]:
    """A group's make-up ({code: people}) with the codes of fewer than MIN_GROUP people pooled:
    ({code: people} of the others, most first, then by code; the people pooled). Also applied
    by forum.services.opinion.readable to maps stored before the rule."""
    kept = {code: int(n) for code, n in sorted(counts.items(), key=lambda i: (-i[1], i[0])) if n >= MIN_GROUP}
    return kept, sum(int(n) for n in counts.values() if n < MIN_GROUP)


def _label(g: int) -> str:
    letters = string.ascii_uppercase
    return letters[g] if g < len(letters) else f"{letters[g // 26 - 1]}{letters[g % 26]}"


def _representative(statements: np.ndarray, t: _Tallies) -> list[list[dict]]:
    """Pol.is' representative statements (repness.clj): what sets a group apart from the rest.
    ra = pa(in) / pa(out) and its two-proportion z (rat), likewise rd/rdt for disagreeing; a
    statement is representative when both its share in the group (pat) and the difference
    (rat) are significant at 90 % (or pdt and rdt); it speaks for agreeing if rat > rdt. Sorted
    by ra * rat * pa * pat (repness-metric), at most 5. A group with none that passes gets its
    single best by z, so that every group says something (Pol.is' fallback)."""
    rest_agree = t.agree.sum(axis=0) - t.agree
    rest_disagree = t.disagree.sum(axis=0) - t.disagree
    rest_seen = t.seen.sum(axis=0) - t.seen
    pat, pdt = _prop_test(t.agree, t.seen), _prop_test(t.disagree, t.seen)
    ra = t.pa / ((rest_agree + 1.0) / (rest_seen + 2.0))
    rd = t.pd / ((rest_disagree + 1.0) / (rest_seen + 2.0))
    rat = _two_prop_test(t.agree, rest_agree, t.seen, rest_seen)
    rdt = _two_prop_test(t.disagree, rest_disagree, t.seen, rest_seen)
    agree_side = rat > rdt
    repness = np.where(agree_side, ra, rd)
    metric = repness * np.where(agree_side, rat, rdt) * np.where(agree_side, t.pa, t.pd) \
        * np.where(agree_side, pat, pdt)
    passes = ((rat > Z_90) & (pat > Z_90)) | ((rdt > Z_90) & (pdt > Z_90))
    voted_on = (t.agree + t.disagree) > 0  # Pol.is never lets an unvoted statement in
    out = []
    for g in range(t.seen.shape[0]):
        chosen = np.flatnonzero(passes[g] & voted_on[g])
        chosen = sorted(chosen, key=lambda s: (-metric[g, s], statements[s]))[:REPRESENTATIVE_MAX]
        if not chosen:
            fallback = np.flatnonzero(voted_on[g])
            best_z = np.maximum(rat[g], rdt[g])
            chosen = sorted(fallback, key=lambda s: (-best_z[s], statements[s]))[:1]
        out.append([{
            "statement_id": int(statements[s]),
            "direction": "agree" if agree_side[g, s] else "disagree",
            "agree": _share(t.agree[g, s], t.seen[g, s]),
            "disagree": _share(t.disagree[g, s], t.seen[g, s]),
            "votes": int(t.seen[g, s]),
            "repness": round(float(repness[g, s]), DIGITS),
        } for s in chosen])
    return out


def _across_groups(statements: np.ndarray, t: _Tallies) -> tuple[list[dict], list[dict], list[dict], dict]:
    """Group-aware consensus (Pol.is' "group-informed consensus"): the product over groups of
    the smoothed agree share, so a statement only the largest group agrees with scores low;
    listed when a majority of every group agreed (pa > 0.5 in each). The same with disagree
    shares for what every group rejects. Divisive: the spread (max - min) of the smoothed agree
    share over the groups that voted on it; every statement's spread is also returned as
    `separation` (statement_order uses it)."""
    k = t.seen.shape[0]
    if k == 0 or len(statements) == 0:
        return [], [], [], {}

    def by_group(s: int) -> dict[str, float | None]:
        return {str(g): _share(t.agree[g, s], t.seen[g, s]) for g in range(k)}

    def ranked(score: np.ndarray, keep: np.ndarray, limit: int) -> list[dict]:
        chosen = sorted(np.flatnonzero(keep), key=lambda s: (-score[s], statements[s]))[:limit]
        return [{"statement_id": int(statements[s]), "score": round(float(score[s]), DIGITS),
                 "agree_by_group": by_group(s)} for s in chosen]

    consensus = ranked(np.prod(t.pa, axis=0), (t.pa > 0.5).all(axis=0), CONSENSUS_MAX)
    rejected = ranked(np.prod(t.pd, axis=0), (t.pd > 0.5).all(axis=0), CONSENSUS_MAX)
    seen = t.seen > 0
    groups_voting = seen.sum(axis=0)
    high = np.where(seen, t.pa, -np.inf).max(axis=0)
    low = np.where(seen, t.pa, np.inf).min(axis=0)
    spread = np.where(groups_voting >= 2, high - low, 0.0)
    divisive = ranked(spread, spread >= DIVISIVE_MIN, DIVISIVE_MAX) if k >= 2 else []
    separation = {str(int(s)): round(float(v), DIGITS) for s, v in zip(statements, spread, strict=True)}
    return consensus, rejected, divisive, separation


# --- statement_order() ---------------------------------------------------------------------

def statement_order(counts: Mapping[int, int], last_map: dict | None, seen: set[int], *,
                    few: int = FEW_VOTES) -> list[int]:
    """The statements of `counts` (statement id -> votes so far) that are not in `seen`, in the
    order to show them: those with fewer than `few` votes first (fewest first), so every
    statement soon has enough votes to place people; then by how much the groups of `last_map`
    differ on them (its `separation`, else its divisive list), most first, so each vote tells
    the most about where someone stands; ties by fewer votes, then by id."""
    separation: dict[int, float] = {}
    if last_map:
        for item in last_map.get("divisive") or ():
            separation[int(item["statement_id"])] = float(item["score"])
        for sid, score in (last_map.get("separation") or {}).items():
            separation[int(sid)] = float(score)
    unseen = [int(s) for s in counts if int(s) not in seen]
    vote_count = {int(s): int(n) for s, n in counts.items()}
    first = sorted((s for s in unseen if vote_count[s] < few), key=lambda s: (vote_count[s], s))
    rest = sorted((s for s in unseen if vote_count[s] >= few),
                  key=lambda s: (-separation.get(s, 0.0), vote_count[s], s))
    return first + rest


# --- A synthetic matrix (the demo's board, the tests and bench/opinion_map.py) ---------------

def planted_votes(sizes: tuple[int, ...] = (100, 100, 100), n_statements: int = 40, *,
                  density: tuple[float, float] = (0.3, 0.6), noise: float = 0.1, seed: int = 0,
                  stances: Mapping[int, tuple[int, ...]] | None = None, first_key: int = 1,
                  first_statement: int = 1) -> tuple[list[tuple[int, int, int]], dict[int, int]]:
    """Votes of fictional participants in planted opinion groups of `sizes`, and the truth
    (participant key -> planted group). Each group holds a stance on each statement (agree or
    disagree, sometimes pass), drawn at random unless `stances` sets it (statement index ->
    one stance per group); each participant votes on a share of the statements drawn from
    `density`, following their group's stance except with probability `noise`, when they
    vote another value at random. Keys are shuffled, so the groups are not runs of keys."""
    rng = np.random.default_rng(seed)
    k = len(sizes)
    profile = rng.choice(np.array([1, -1, 0]), size=(k, n_statements), p=[0.45, 0.45, 0.10])
    for index, planted in (stances or {}).items():
        profile[:, index] = planted
    total = sum(sizes)
    keys = first_key + rng.permutation(total)
    truth: dict[int, int] = {}
    votes: list[tuple[int, int, int]] = []
    person = 0
    for g, size in enumerate(sizes):
        for _ in range(size):
            key = int(keys[person])
            person += 1
            truth[key] = g
            n = max(1, round(rng.uniform(*density) * n_statements))
            for s in np.sort(rng.choice(n_statements, size=n, replace=False)):
                value = int(profile[g, s])
                if rng.random() < noise:
                    value = int(rng.choice([v for v in (1, -1, 0) if v != value]))
                votes.append((key, first_statement + int(s), value))
    return votes, truth
