"""Vote throughput with live readers of a poll's results, against posts to the same readers.

A script that prints figures, not a test. It prepares a database (migrations, an open public
consultation with one topic, W voter accounts, an open single-choice poll whose results are
shown live, and B ballots already cast), starts Plenary under gunicorn's gevent worker, and
runs two phases with the same N anonymous readers (bench/socket_load.py's ReaderPool and
readers):

- poll: the readers join the poll's results stream ("poll:<id>"); the W voters send V votes
  over the socket (`vote`, changing their ballot each time) at R votes/s; after their commits
  a job counts the ballots and sends one `poll.results` message (the whole results) to every
  reader, at most once per POLL_RESULTS_DEBOUNCE_SECONDS (1 s by default), however many votes
  came meanwhile;
- posts (the baseline): the same readers join the consultation's stream; the same accounts
  post V posts at the same rate (socket_load.py's writers).

It prints, per phase: what the acknowledgements kept of the offered pace (votes or posts per
second), delivery latency p50/p95 from the moment a vote (a post) was sent to the arrival at
each reader of the first message that shows it (the commit happens before the
acknowledgement, whose time is shown too; for votes the debounce is part of it), lost /
duplicated / out-of-order deliveries, the message's size on the wire, and the server's CPU
per message. A vote's acknowledgement names no message: a witness socket of the voters'
follows the results stream, and each results message is matched to the votes it is the
first to count by its figures (the tally after each vote, in the order they were
acknowledged). Every message must reach every reader once and in order, and the last must
count every vote: the script exits with status 1 otherwise.

    .venv/bin/python bench/poll_votes.py                       # 1,000 readers, 10 votes/s, 200 votes
    .venv/bin/python bench/poll_votes.py --clients 100 --votes 100 --rate 10    # about 10 s a phase
    .venv/bin/python bench/poll_votes.py --clients 1000 --rate 20 --ballots 5000 \\
        --database-url postgresql://postgres@127.0.0.1:5432/plenary_bench

Readers, servers and accounts as in bench/socket_load.py (its options --redis, --processes,
--reader-client, --readers-per-process, --connect-concurrency, --worker-connections hold here
too). aiohttp and requests are bench-only requirements (bench/README.md).
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import os
import secrets
import shutil
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the project, for bench.socket_load
from bench import socket_load  # noqa: E402  (servers, readers, writers, figures)
from bench.socket_load import (  # noqa: E402
    CALL_TIMEOUT,
    MAX_CLIENTS,
    READERS_PER_PROCESS,
    Server,
    code_version,
    login,
    percentile,
    prepare_database,
    run_phase,
    sqlalchemy_url,
    start_plenary_server,
)

OPTIONS = 4


def setup_poll(url: str, voters: int, ballots: int, run_id: str) -> dict:
    """Runs in a child process: socket_load's set-up (an organiser, an open public consultation
    with one topic, `voters` accounts who vote and, in the baseline, post), then an open
    single-choice poll with live results, and `ballots` ballots already cast (accounts made
    directly: no password)."""
    data = socket_load.setup_data(url, voters, run_id)
    from forum import create_app
    from forum.extensions import db
    from forum.models import Consultation, User
    from forum.models.polls import PollVote
    from forum.models.users import find_user_by_email
    from forum.services import polls as poll_service

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": sqlalchemy_url(url)})
    with app.app_context():
        organiser = find_user_by_email(f"organiser-{run_id}@bench.example")
        consultation = db.session.get(Consultation, data["consultation_id"])
        poll = poll_service.create_poll(organiser, consultation, {
            "kind": "single", "question": "Which option first?", "results_shown": "live"},
            [f"Option {n}" for n in range(1, OPTIONS + 1)])
        poll_service.open_poll(organiser, poll)
        db.session.flush()
        option_ids = [option.id for option in poll.options]
        countries = ["IT", "DE", "FR", "ES", "PL", "BE", "NL", "SE"]
        types = ["ngo", "local_authority", "business", "academia"]
        for n in range(ballots):  # past voters: rows only, as many as asked
            user = User(email=f"past{n}-{run_id}@bench.example", password_hash="!", display_name=f"Past {n}",
                        organisation="Past", organisation_type=types[n % len(types)],
                        country=countries[n % len(countries)])
            db.session.add(user)
            if n % 500 == 499:
                db.session.flush()
        db.session.flush()
        past = db.session.query(User.id, User.country, User.organisation_type).filter(
            User.email.like(f"past%-{run_id}@bench.example")).all()
        db.session.add_all(PollVote(poll_id=poll.id, user_id=row.id, choice=[option_ids[i % OPTIONS]],
                                    country=row.country, organisation_type=row.organisation_type)
                           for i, row in enumerate(past))
        db.session.commit()
        return {**data, "poll_id": poll.id, "option_ids": option_ids,
                "past_counts": [sum(1 for i in range(len(past)) if i % OPTIONS == n) for n in range(OPTIONS)]}


async def run_voters(url: str, origin: str, stream: str, poll_id: int, cookies: list[str | None],
                     votes: int, rate: float, run_id: str, open_loop: bool = False, *,
                     option_ids: list[int], past_counts: list[int], settle: float = 60.0) -> dict:
    """socket_load.run_writers's counterpart for votes (the same figures): `votes` votes over the
    voters' sockets at `rate` votes/s, each voter changing their ballot every time. The results
    messages come from a job, not from a vote: a witness socket follows the stream, and each
    message it gets is given the send time of the first vote it counts that no earlier message
    counted (`sent`: {seq: that time}, what the readers' latencies run from)."""
    import socketio

    clients, sessions = [], []
    witnessed: list[tuple[int, float, tuple[int, ...]]] = []  # (seq, arrival, votes per option)
    final_seen = asyncio.Event()
    expected_final: list[tuple[int, ...]] = []

    def on_results(message) -> None:
        if message.get("stream") != stream or message.get("type") != "poll.results":
            return
        figures = {o["id"]: o["votes"] for o in message["data"]["results"]["options"]}
        counts = tuple(figures.get(option, 0) for option in option_ids)
        witnessed.append((message["seq"], time.monotonic(), counts))
        if expected_final and counts == expected_final[0]:
            final_seen.set()

    async def close_all() -> None:
        await asyncio.gather(*(c.disconnect() for c in clients), return_exceptions=True)
        await asyncio.gather(*(s.close() for s in sessions), return_exceptions=True)

    try:
        voters = [await socket_load.connect_client(url, origin, cookie, clients, sessions) for cookie in cookies]
        witness = await socket_load.connect_client(url, origin, None, clients, sessions)
        witness.on("event", on_results)
        joined = await witness.call("join", {"stream": stream, "last_seq": None}, timeout=CALL_TIMEOUT)
        if not joined.get("ok"):
            raise RuntimeError(f"the witness could not join {stream}: {joined}")
    except BaseException:
        await close_all()
        raise

    sent_times: dict[int, float] = {}  # vote i (acknowledged) -> when it was sent
    errors: dict[str, int] = {}
    ack_ms: list[float] = []
    acks: list[tuple[int, float]] = []
    acks_at: dict[int, float] = {}
    t0 = time.monotonic() + 0.5
    first_ack, last_ack = None, t0

    async def send(client, i: int) -> None:
        nonlocal first_ack, last_ack
        sent_at = time.monotonic()
        try:
            ack = await client.call("vote", {"poll_id": poll_id, "choice": [option_ids[i % len(option_ids)]]},
                                    timeout=CALL_TIMEOUT)
        except socketio.exceptions.TimeoutError:
            errors["timeout"] = errors.get("timeout", 0) + 1
            return
        now = time.monotonic()
        if isinstance(ack, dict) and ack.get("ok"):
            sent_times[i] = sent_at
            ack_ms.append((now - sent_at) * 1000)
            acks.append((i, now))
            acks_at[i] = now
            first_ack = now if first_ack is None else min(first_ack, now)
            last_ack = max(last_ack, now)
        else:
            code = str(ack.get("error", {}).get("code", "?")) if isinstance(ack, dict) else "?"
            errors[code] = errors.get(code, 0) + 1

    # The tally after each acknowledged vote, in the order of their acknowledgements (votes
    # commit before they are acknowledged; paced, one after another).
    def tallies(order: list[int]) -> list[tuple[int, ...]]:
        ballots: dict[int, int] = {}
        states = []
        for i in order:
            ballots[i % len(voters)] = option_ids.index(option_ids[i % len(option_ids)])
            counts = list(past_counts)
            for option in ballots.values():
                counts[option] += 1
            states.append(tuple(counts))
        return states

    try:
        late = await socket_load.send_paced(voters, votes, rate, t0, open_loop, send)
        order = [i for i, _ in sorted(acks, key=lambda a: a[1])]
        states = tallies(order)
        if states:
            expected_final.append(states[-1])
            if witnessed and witnessed[-1][2] == states[-1]:
                final_seen.set()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(final_seen.wait(), settle)
    finally:
        await close_all()
    # Each message: the first vote it counts that no earlier message counted. What it counts is
    # the longest prefix of the votes acknowledged before it arrived whose tally it shows (a
    # tally can come back: voters go round the options).
    sent: dict[int, float] = {}
    counted = 0
    for seq, arrived, counts in sorted(witnessed):
        before = [p for p, i in enumerate(order) if acks_at[i] <= arrived]
        match = max((p for p in before if p >= counted - 1 and states[p] == counts), default=None)
        if match is None:  # votes committed out of acknowledgement order: the last one acked before it
            match = max(before or [counted - 1])
        first_new = order[counted] if counted < len(order) else None
        if match + 1 > counted and first_new is not None:
            sent[seq] = sent_times[first_new]
            counted = match + 1
        else:  # counts nothing new (a run after the last vote's): from its own arrival
            sent[seq] = arrived
    if not final_seen.is_set() and states:
        errors["last results message does not count every vote"] = 1
    return {"sent": sent, "errors": errors, "retries": 0, "ack_ms": ack_ms, "late": late, "first_send": t0,
            "first_ack": first_ack, "acks": acks, "last_ack": last_ack, "join_seq": None, "sync_count": None,
            "votes ok": len(sent_times)}


@contextlib.contextmanager
def voting_writers(option_ids: list[int], past_counts: list[int], settle: float):
    """socket_load.run_phase with votes instead of posts: its writers, swapped for the voters."""
    posting = socket_load.run_writers

    async def writers(url, origin, stream, poll_id, cookies, votes, rate, run_id, open_loop=False):
        found = await run_voters(url, origin, stream, poll_id, cookies, votes, rate, run_id, open_loop,
                                 option_ids=option_ids, past_counts=past_counts, settle=settle)
        print(f"  poll: {found['votes ok']} votes acknowledged, {len(found['sent'])} results messages", flush=True)
        return found
    socket_load.run_writers = writers
    try:
        yield
    finally:
        socket_load.run_writers = posting


def summary(f: dict) -> str:
    lat = f["latency ms"]
    cpu_per = f["server cpu s"] * 1000 / f["posts ok"] if f["posts ok"] else float("nan")
    return (f"{f['name']:<8} {f['connected']:>7} {f['ack posts/s']:>8.1f} / {f['offered posts/s']:<5g} "
            f"{percentile(lat, 50):>7.1f} {percentile(lat, 95):>7.1f} {percentile(f['ack ms'], 50):>7.1f} "
            f"{f['lost']:>5}/{f['duplicates']}/{f['out of order']:<5} {f['event bytes']:>8.0f} "
            f"{f['max event bytes']:>8} {cpu_per:>10.1f}")


def report(args, phases: list[dict], database: str) -> bool:
    print(f"\n{args.clients} readers, {args.votes} votes (posts) at {args.rate:g}/s by {args.voters} accounts, "
          f"{args.ballots} ballots cast before; {database}")
    print(f"{'phase':<8} {'readers':>7} {'acked/s / offered':>17} {'p50 ms':>7} {'p95 ms':>7} {'ack p50':>7} "
          f"{'lost/dup/ooo':>12} {'B/msg':>8} {'max B':>8} {'CPU ms/msg':>10}")
    print("-" * 108)
    ok = True
    for f in phases:
        print(summary(f))
        errors = f["post errors"]
        if errors or f["lost"] or f["duplicates"] or f["out of order"] or f["unexpected"]:
            ok = False
            print(f"  {f['name']}: errors {errors}, lost {f['lost']}, duplicated {f['duplicates']}, "
                  f"out of order {f['out of order']}, unexpected {f['unexpected']}")
    if len(phases) == 2:
        poll, posts = phases
        p95 = percentile(poll["latency ms"], 95) / percentile(posts["latency ms"], 95)
        print(f"poll / posts: p95 {p95:.2f}, message size {poll['event bytes'] / posts['event bytes']:.2f}, "
              f"server CPU per message {poll['server cpu s'] / max(1e-9, posts['server cpu s']):.2f}")
    sample = phases[0].get("event sample") if phases else None
    if sample:
        print(f"a results message: {str(sample)[:300]}")
    print("OK" if ok else "FAILED: lost, duplicated, out-of-order deliveries or refused votes (see above)")
    return ok


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=1000, help="reader connections (default 1000)")
    parser.add_argument("--voters", type=int, default=5, help="voting (and, in the baseline, posting) accounts")
    parser.add_argument("--votes", type=int, default=200, help="votes (and posts) per phase (default 200)")
    parser.add_argument("--rate", type=float, default=10.0, help="votes (posts) per second (default 10)")
    parser.add_argument("--ballots", type=int, default=1000,
                        help="ballots already cast when the run starts: each results message tallies them all "
                             "(default 1000)")
    parser.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    parser.add_argument("--redis", nargs="?", const="redis://127.0.0.1:6379/0", default=None, metavar="URL")
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=60.0,
                        help="seconds to wait for the last deliveries after the last vote (default 60)")
    parser.add_argument("--connect-concurrency", type=int, default=50)
    parser.add_argument("--readers-per-process", type=int, default=READERS_PER_PROCESS)
    parser.add_argument("--reader-client", choices=("raw", "socketio"), default="raw")
    parser.add_argument("--worker-connections", type=int, default=None)
    parser.add_argument("--open-loop", action="store_true",
                        help="each vote leaves at its slot whether or not the voter's previous one is acknowledged")
    parser.add_argument("--no-baseline", action="store_true", help="only the poll phase")
    parser.add_argument("--baseline-first", action="store_true",
                        help="the posts phase first (default: the poll's; the first meets a freshly started server)")
    parser.add_argument("--keep-logs", action="store_true")
    args = parser.parse_args(argv)
    if not 1 <= args.clients <= MAX_CLIENTS:
        parser.error(f"--clients must be between 1 and {MAX_CLIENTS}")
    if args.voters < 1 or args.votes < 1 or args.ballots < 0:
        parser.error("--voters and --votes must be at least 1, --ballots at least 0")
    if args.processes > 1 and not (args.redis and (args.database_url or "").startswith("postgres")):
        parser.error("--processes above 1 needs --redis and PostgreSQL")
    # What socket_load's phase and server read.
    args.posts, args.writers = args.votes, args.voters
    if args.worker_connections is None:
        args.worker_connections = max(1000, 2 * (args.clients + args.voters) + 100)
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    run_id = f"{int(time.time())}-{secrets.token_hex(3)}"
    tmp = Path(tempfile.mkdtemp(prefix="plenary-poll-votes-"))
    servers: list[Server] = []
    ok = False
    os.environ.setdefault("SOCKETIO_WEBSOCKET_COMPRESSION", "false")
    os.environ.setdefault("BENCH_OFFER_DEFLATE", "1")
    print(f"code: {code_version()}; load average at the start: {os.getloadavg()[0]:.2f}", flush=True)
    try:
        url = args.database_url or f"sqlite:///{tmp / 'bench.db'}"
        database = prepare_database(url)
        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
            data = pool.submit(setup_poll, url, args.voters, args.ballots, run_id).result(timeout=600)
        server = start_plenary_server(url, args, tmp, f"plenary-bench-{run_id}", servers=servers)
        print(f"plenary server: {server.command}", flush=True)
        base = f"http://127.0.0.1:{server.port}"
        cookies = [login(base, email) for email in data["emails"]]
        def poll_phase() -> dict:
            with voting_writers(data["option_ids"], data["past_counts"], args.timeout):
                return run_phase("poll", server, args, f"poll:{data['poll_id']}", data["poll_id"], cookies, run_id)

        def posts_phase() -> dict:
            return run_phase("posts", server, args, f"consultation:{data['consultation_id']}", data["topic_id"],
                             cookies, run_id)
        order = [posts_phase, poll_phase] if args.baseline_first else [poll_phase, posts_phase]
        phases = [phase() for phase in order if not (args.no_baseline and phase is posts_phase)]
        phases.sort(key=lambda f: f["name"] != "poll")  # reported poll first
        ok = report(args, phases, database)
    except Exception as error:
        print(f"\nbench failed: {type(error).__name__}: {error}", file=sys.stderr)
        for server in servers:
            print(f"--- last lines of the {server.name} server log ({server.log}):\n{server.tail()}", file=sys.stderr)
        args.keep_logs = True
    finally:
        for server in servers:
            server.stop()
        if args.keep_logs:
            print(f"server logs kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
