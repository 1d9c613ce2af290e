"""How long the opinion map takes to recompute (forum/services/opinion_map.py), by phase, and
how much memory it uses.

For each size (participants x statements at a density), builds a synthetic matrix with three
planted opinion groups (`planted_votes`, 10 % noise), then in a fresh subprocess per size:
times the phases of `compute()` as it runs them (matrix build, PCA and projection, k-means
plus silhouette for k = 2..5, representative statements and consensus/divisiveness), then
`compute()` whole (best of --repeat runs: wall time, and CPU time, which a busy machine
disturbs less), and prints the process's peak RSS and, in a last
run under tracemalloc, the peak of allocations during compute() (numpy's arrays included).

    .venv/bin/python bench/opinion_map.py                     # 500x100, 2000x300, 5000x300 at 30 %
    .venv/bin/python bench/opinion_map.py 2000x300 --density 0.3 --repeat 5
    .venv/bin/python bench/opinion_map.py 2000x300 --profile  # py-spy would say the same: cProfile top 15

    .venv/bin/python bench/opinion_map.py 2000x300 --job      # the whole job on a database, below

The goal (issue 11): 2,000 x 300 at 30 % in under 2 s.

`--job` times what the job queue runs (`forum.services.opinion.recompute_map` and its commit):
a temporary SQLite database (or `--database-url`, migrated) gets a board with the planted
votes (accounts, statements and votes inserted in bulk), then the job reads the matrix from
the database, computes the map, stores it and records its live event; best of --repeat, each
run on a new matrix version so that it stores.
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from forum.services import opinion_map as om

GOAL = {"2000x300": 2.0}
DEFAULT_SIZES = ["500x100", "2000x300", "5000x300"]


def votes_for(size: str, density: float, seed: int = 0) -> list[tuple[int, int, int]]:
    participants, statements = (int(n) for n in size.split("x"))
    third = participants // 3
    sizes = (participants - 2 * third, third, third)
    votes, _truth = om.planted_votes(sizes, statements, density=(density, density), noise=0.1, seed=seed)
    return votes


def phases(votes: list[tuple[int, int, int]], seed: int = 0) -> dict[str, float]:
    """compute()'s steps, one by one, timed (the same calls in the same order, on one thread
    as compute() runs them)."""
    with threadpool_limits(limits=1):
        return _phases(votes, seed)


def _phases(votes: list[tuple[int, int, int]], seed: int) -> dict[str, float]:
    timings: dict[str, float] = {}
    start = time.perf_counter()
    matrix = om._Matrix(votes)
    n_statements = len(matrix.statements)
    counts = (~np.isnan(matrix.values)).sum(axis=1)
    placed = counts >= max(1, min(om.MIN_VOTES, n_statements))
    keys, values = matrix.participants[placed], matrix.values[placed]
    timings["matrix build"] = time.perf_counter() - start

    start = time.perf_counter()
    _xy, space = om._project(values, counts[placed], n_statements)
    timings["PCA + projection"] = time.perf_counter() - start

    start = time.perf_counter()
    labels, k, _score = om._groups(space, keys, seed)
    timings["k-means + silhouette (k=2..5)"] = time.perf_counter() - start

    start = time.perf_counter()
    tallies = om._Tallies(values, labels, k)
    om._describe_groups(labels, k, keys, matrix.statements, tallies, {})
    om._across_groups(matrix.statements, tallies)
    timings["repness + consensus + divisive"] = time.perf_counter() - start
    return timings


def run_one(size: str, density: float, repeat: int, profile: bool) -> dict:
    votes = votes_for(size, density)
    groups_of = {key: ("DE", "ngo") for key, _s, _v in votes}
    om.compute(votes[:5000], groups_of)  # warm up: scikit-learn's lazy imports and thread pools
    steps = phases(votes)
    best = best_cpu = float("inf")
    result = None
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        result = om.compute(votes, groups_of)
        best = min(best, time.perf_counter() - start)
        best_cpu = min(best_cpu, time.process_time() - start_cpu)
    tracemalloc.start()
    om.compute(votes, groups_of)
    _current, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    if profile:
        import cProfile
        import pstats
        profiler = cProfile.Profile()
        profiler.enable()
        om.compute(votes, groups_of)
        profiler.disable()
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(15)
    return {
        "size": size, "votes": len(votes), "placed": result["participants"], "k": result["k"],
        "phases": steps, "compute": best, "cpu": best_cpu,
        "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "traced_mb": traced_peak / 2**20,
    }


def run_job(size: str, density: float, repeat: int, database_url: str | None) -> dict:
    """The job as the queue runs it, on a board stored in a database (see the docstring)."""
    import os
    import tempfile

    from sqlalchemy import insert, update

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the project, for bench.socket_load
    from bench.socket_load import prepare_database

    folder = tempfile.mkdtemp(prefix="plenary-map-")
    url = database_url or f"sqlite:///{folder}/bench.db"
    os.environ.update(DATABASE_URL=url, SECRET_KEY="bench-opinion-map")
    os.environ.pop("REDIS_URL", None)
    prepare_database(url)
    from forum import create_app
    from forum.extensions import db
    from forum.models import Consultation, OpinionBoard, Statement, StatementVote, User
    from forum.models.opinion import BoardStatus, StatementStatus
    from forum.services import opinion

    votes = votes_for(size, density)
    participants, statements = (int(n) for n in size.split("x"))
    app = create_app()
    with app.app_context():
        start = time.perf_counter()
        owner = User(email=f"owner-{folder[-6:]}@bench.example", password_hash="-", display_name="Owner",
                     organisation_type="public_authority", country="BE")
        db.session.add(owner)
        db.session.flush()
        consultation = Consultation(title="Bench board", owner_id=owner.id)
        db.session.add(consultation)
        db.session.flush()
        board = OpinionBoard(consultation_id=consultation.id, created_by_id=owner.id, status=BoardStatus.OPEN)
        db.session.add(board)
        db.session.flush()
        countries, types = ("DE", "IT", "FR", "PL", "ES"), ("ngo", "public_authority", "research")
        people = [{"email": f"p{i}-{folder[-6:]}@bench.example", "password_hash": "-", "display_name": f"P{i}",
                   "organisation_type": types[i % 3], "country": countries[i % 5]} for i in range(participants)]
        first_user = db.session.execute(insert(User).returning(User.id), people).scalars().all()
        statement_ids = db.session.execute(insert(Statement).returning(Statement.id), [
            {"board_id": board.id, "author_id": owner.id, "text": f"Statement {i}", "seed": True,
             "status": StatementStatus.PUBLISHED} for i in range(statements)]).scalars().all()
        # planted_votes numbers participants and statements its own way: map them onto the rows.
        person_of = dict(zip(sorted({p for p, _s, _v in votes}), first_user, strict=False))
        statement_of = dict(zip(sorted({s for _p, s, _v in votes}), statement_ids, strict=False))
        db.session.execute(insert(StatementVote), [
            {"board_id": board.id, "statement_id": statement_of[s], "user_id": person_of[p], "value": v}
            for p, s, v in votes])
        db.session.commit()
        filled = time.perf_counter() - start
        board_id = board.id
    best = best_cpu = float("inf")
    for _ in range(repeat):
        with app.app_context():
            db.session.execute(update(OpinionBoard).where(OpinionBoard.id == board_id)
                               .values(matrix_version=OpinionBoard.matrix_version + 1))
            db.session.commit()
            start, start_cpu = time.perf_counter(), time.process_time()
            assert opinion.recompute_map(board_id)
            db.session.commit()
            best = min(best, time.perf_counter() - start)
            best_cpu = min(best_cpu, time.process_time() - start_cpu)
    with app.app_context():
        stored = db.session.get(OpinionBoard, board_id).map
    return {"size": size, "votes": len(votes), "placed": stored["participants"], "k": stored["k"],
            "fill": filled, "job": best, "cpu": best_cpu, "database": url.split(":")[0],
            "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sizes", nargs="*", default=DEFAULT_SIZES, help="PARTICIPANTSxSTATEMENTS")
    parser.add_argument("--density", type=float, default=0.3)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--job", action="store_true", help="time the whole job on a database (recompute_map)")
    parser.add_argument("--database-url", default=None, help="with --job: default a temporary SQLite file")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.job:
        print(f"the job (read the matrix, compute, store, record its event), density {args.density:.0%}, "
              f"best of {args.repeat}")
        for size in args.sizes:
            row = run_job(size, args.density, args.repeat, args.database_url)
            goal = GOAL.get(size)
            verdict = "" if goal is None else ("PASS" if row["job"] < goal else "FAIL") + f" (< {goal:g} s)"
            print(f"{row['size']:>10} {row['database']:>10} votes {row['votes']:>7} placed {row['placed']:>5} "
                  f"k {row['k']}  job {row['job']:.3f} s (CPU {row['cpu']:.3f} s)  peak RSS {row['rss_mb']:.0f} MB  "
                  f"(filled in {row['fill']:.1f} s)  {verdict}", flush=True)
        return
    if args.child:
        print(json.dumps(run_one(args.sizes[0], args.density, args.repeat, args.profile)))
        return
    rows = []
    for size in args.sizes:
        command = [sys.executable, __file__, size, "--child", "--density", str(args.density),
                   "--repeat", str(args.repeat)] + (["--profile"] if args.profile else [])
        output = subprocess.run(command, check=True, text=True, stdout=subprocess.PIPE).stdout
        rows.append(json.loads(output.strip().splitlines()[-1]))
    names = list(rows[0]["phases"])
    print(f"density {args.density:.0%}, best of {args.repeat}; phases from one run; times in seconds "
          f"(wall, CPU for compute)")
    header = f"{'size':>10} {'votes':>8} {'placed':>6} {'k':>2} " + " ".join(f"{n[:14]:>14}" for n in names) \
        + f" {'compute':>8} {'CPU':>6} {'peak RSS MB':>11} {'traced MB':>9}  goal"
    print(header)
    print("-" * len(header))
    for row in rows:
        goal = GOAL.get(row["size"])
        verdict = "" if goal is None else ("PASS" if row["compute"] < goal else "FAIL") + f" (< {goal:g} s)"
        print(f"{row['size']:>10} {row['votes']:>8} {row['placed']:>6} {row['k']:>2} "
              + " ".join(f"{row['phases'][n]:>14.3f}" for n in names)
              + f" {row['compute']:>8.3f} {row['cpu']:>6.3f} {row['rss_mb']:>11.0f} {row['traced_mb']:>9.1f}"
              + f"  {verdict}")


if __name__ == "__main__":
    main()
