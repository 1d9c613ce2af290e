"""Report files of a large event: how long the job takes and how much memory it needs (Markdown,
Word and PDF, 1,000 to 50,000 posts), and what a report being built does to a busy room.

A script that prints figures, not a test.

1. **Build time and peak memory.** For each size it makes a fresh database (a temporary SQLite
   file, or with --database-url a PostgreSQL database of its own per size, created and dropped
   by the script), migrates it, and fills it with a realistic event (bulk inserts): a plenary
   and 8 breakout rooms with 2 or 3 co-moderators each; registered participants (EventMember)
   from 20 countries and 14 types of organisation, about one in five registered without
   posting, some observers; about 20 posts per active participant, some people far more active
   than others; chat-like and multi-sentence posts (questions, Markdown lists, emphasis,
   links, some in Italian), replies (some quoting), endorsements, key takeaways (some promoted
   from a post), a few hidden and deleted posts, pins and other moderation actions, and the
   moderators' back-channel. Every body_html is forum.rendering.render_markdown's output for
   its body. Then, for each format, it queues a report row (as `request_report` does) and runs
   the job as the worker runs it (`flask --app wsgi worker`: wsgi imported, then
   forum.jobs.perform("forum.services.reports.build", [id])) in a fresh subprocess, and prints
   its wall and CPU time (and the parts spent in build_report and in writing the format), the
   file's size, the process's RSS once the app is loaded and connected (the idle worker: the
   baseline) and its peak RSS at the end (VmHWM: see _status_kb for why not ru_maxrss).

2. **A busy room while the report builds** (on by default; --no-live): the largest size's
   event is served by gunicorn as docs/deploy.md runs it; C participants of one breakout room
   are connected over Socket.IO (signed in, joined to the room), W of them post R messages a
   second in all (open loop). Delivery latency (a message's send to its arrival at each of the
   C clients) is measured --live-repeat times for --live-seconds without any report, then
   while the organiser asks for the event's report (POST /exports/event/<id>/reports, the real
   route) and until it is built or failed; after each report the script waits until the
   backlog is delivered (those messages count in neither phase). Twice: with REDIS_URL
   (Socket.IO over Redis, the job built by `flask --app wsgi worker` in its own process:
   production), and without Redis (the embedded default: the job runs inline in the web
   process, forum/jobs.py).

3. **Where the time goes** (--profile): py-spy records the largest size's build (one format)
   and the script prints the functions with the most samples (own and inclusive).

    .venv/bin/python bench/reports.py                                   # SQLite, 1k/10k/50k, live, ~7 min
    .venv/bin/python bench/reports.py --sizes 1000 --no-live            # a quick check
    .venv/bin/python bench/reports.py --sizes 50000 --formats pdf --no-live --profile
    .venv/bin/python bench/reports.py --database-url postgresql://postgres@127.0.0.1:5432/plenary_bench_reports

Needs the `bench` extra (aiohttp, requests); --profile needs py-spy (`.venv/bin/pip install
py-spy`). Redis is expected at 127.0.0.1:6379 (--redis URL); without it the Redis variant is
skipped with a message. Everything runs on 127.0.0.1; the servers, the worker and the
databases the script made are stopped and removed at the end (--keep keeps the files).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict, deque
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the project, and bench.socket_load / bench.storm

from bench.socket_load import (  # noqa: E402
    PASSWORD,
    USER_AGENT,
    Server,
    code_version,
    cpu_seconds,
    ensure_postgres_database,
    free_port,
    login,
    migrate,
    percentile,
    process_tree,
    sqlalchemy_url,
)

DEFAULT_SIZES = "1000,10000,50000"
FORMATS = ("md", "docx", "pdf")
GOAL_POSTS, GOAL_SECONDS, GOAL_PEAK_MB = 50_000, 5.0, 150.0
POSTS_PER_ACTIVE = 20
BREAKOUT_ROOMS = (
    ("Housing and first reception", "Where newcomers live in their first two years, and who helps them find a home."),
    ("Language and education", "Language courses, schools and adult education: what makes people stay the course."),
    ("Work and skills", "Recognition of qualifications, traineeships and the first job."),
    ("Health and well-being", "Access to care, mental health and health mediators."),
    ("Children and families", "Childcare, schools and support for parents."),
    ("Funding for civil society", "How small and migrant-led organisations can use the funds."),
    ("Rural areas and small towns", "Integration outside the big cities: transport, services, welcome."),
    ("Participation and voice", "How newcomers take part in local decisions and in this forum."),
)
ROOM_WEIGHTS = (1.3, 1.2, 1.2, 1.0, 1.0, 0.9, 0.8, 0.7)
LIVE_ROOM = 3  # position of the breakout room the live clients sit in ("Work and skills")
ACK_TIMEOUT = 900.0  # a message sent while the web process builds a report inline waits that long
REPORT_TIMEOUT = 900.0  # the organiser's request (inline: it waits for the build)
LIVE_P95_RATIO_MAX = 1.2  # "unchanged p95", read as within 20 % of the phase without a report


# --- Text ------------------------------------------------------------------------------------

FIRST_NAMES = {
    "IT": ("Giulia", "Marco", "Chiara", "Luca", "Francesca", "Matteo", "Sara", "Alessandro", "Elena", "Davide"),
    "DE": ("Anna", "Jonas", "Lena", "Felix", "Miriam", "Tobias", "Katrin", "Stefan", "Julia", "Lukas"),
    "FR": ("Camille", "Julien", "Claire", "Thomas", "Sophie", "Nicolas", "Léa", "Antoine", "Manon", "Hugo"),
    "ES": ("Lucía", "Javier", "Marta", "Pablo", "Carmen", "Diego", "Elena", "Sergio", "Laura", "Álvaro"),
    "PL": ("Agnieszka", "Piotr", "Katarzyna", "Tomasz", "Magdalena", "Michał", "Anna", "Paweł", "Ewa", "Jakub"),
    "other": ("Amira", "Yusuf", "Olena", "Ahmed", "Fatima", "Dmytro", "Leila", "Samir", "Nadia", "Omar",
              "Eva", "Niels", "Ingrid", "Jan", "Sofia", "Nikos", "Maria", "João", "Ana", "Péter"),
}
LAST_NAMES = ("Rossi", "Bianchi", "Müller", "Schmidt", "Martin", "Bernard", "García", "López", "Kowalski",
              "Nowak", "Haddad", "Kovalenko", "Papadopoulos", "Silva", "Jansen", "De Vries", "Andersson",
              "Nagy", "Popescu", "Murphy", "Novak", "Horvat", "Yilmaz", "El Amrani", "Dubois", "Ferrari")
COUNTRIES = (("IT", 14), ("DE", 12), ("ES", 10), ("FR", 10), ("PL", 7), ("GR", 6), ("BE", 5), ("NL", 5),
             ("SE", 4), ("AT", 4), ("PT", 4), ("RO", 3), ("HU", 2), ("IE", 2), ("CZ", 2), ("UA", 3),
             ("TR", 2), ("NO", 1), ("CH", 1), ("MA", 1))
ORGANISATION_TYPES = (("ngo", 25), ("local_authority", 18), ("regional_authority", 8), ("migrant_led", 10),
                      ("research", 8), ("non_profit", 6), ("managing_authority", 6), ("national_authority", 5),
                      ("trade_union", 3), ("employers", 3), ("private_company", 3), ("individual", 3),
                      ("eu_institution", 2), ("other", 1))
CITIES = ("Bologna", "Leipzig", "Lyon", "Valencia", "Gdańsk", "Thessaloniki", "Ghent", "Utrecht", "Malmö", "Graz",
          "Porto", "Cluj", "Pécs", "Cork", "Brno", "Lviv", "Izmir", "Bergen", "Basel", "Tangier", "Turin",
          "Bremen", "Lille", "Seville", "Poznań", "Patras", "Liège", "Tilburg", "Uppsala", "Linz")
ORGANISATION_NAMES = {
    "ngo": "Refugee Welcome {city}", "local_authority": "City of {city}", "regional_authority": "Region of {city}",
    "migrant_led": "Diaspora Network {city}", "research": "University of {city}", "non_profit": "Caritas {city}",
    "managing_authority": "ESF+ Managing Authority ({city})", "national_authority": "Ministry of Labour",
    "trade_union": "Workers' Union {city}", "employers": "Chamber of Commerce {city}",
    "private_company": "{city} Logistics", "individual": "", "eu_institution": "European Commission",
    "other": "Foundation {city}",
}

SUBJECTS = (
    "language courses", "childcare places during training", "recognition procedures for qualifications",
    "housing programmes for newcomers", "mentoring schemes run by employers", "transport links to training centres",
    "one-stop shops", "small grants for migrant-led organisations", "digital skills classes", "health mediators",
    "psychological support services for refugees", "traineeships in small firms",
    "school enrolments in the middle of the year", "bridging courses for nurses", "volunteer tutors",
    "evening classes", "cultural mediators in hospitals", "local integration plans", "peer support groups for women",
    "vocational courses in the mother tongue", "legal advice desks on residence permits", "sport clubs",
    "the fund's reporting rules", "simplified cost options", "co-funding requirements", "local coordination tables",
    "outreach visits by community leaders", "apprenticeships", "after-school programmes",
    "waiting times for interviews",
)
PREDICATES = (
    "work best when they start in the first month", "are underfunded compared to the need",
    "depend on volunteers who burn out after a year", "need stable funding over several years",
    "should be designed together with the people who use them", "take far too long to reach rural areas",
    "doubled attendance once they became free of charge", "are still organised project by project",
    "only work if employers are involved from the start", "were the first thing cut when the budget shrank",
    "help people keep the skills they arrived with", "are hard to find for anyone who does not speak the language",
    "could be paid for by the fund if the rules were simpler", "reach men much more often than women",
    "need a single contact person rather than five offices", "made the biggest difference in our evaluation",
    "are offered in the morning, when most people are at work", "cost less than one extra course per year",
    "stop abruptly when the project ends", "are where trust is built, more than anywhere else",
)
OPENERS = ("In our city, ", "In our region, ", "Where I work, ", "From what we see every day, ",
           "In the municipality of {city}, ", "In {city}, ", "In our experience, ", "Honestly, ",
           "Since 2022, ", "For the families we support, ", "", "", "", "")
CLOSERS = ("", "", "", " and the evaluation confirmed it", " according to our last survey",
           ", at least for families with young children", ", which nobody planned for",
           " when the partners talk to each other", " in the first two years after arrival",
           ", as the managing authority admitted last spring")
QUESTIONS = (
    "How do other cities pay for {subject} once the project ends?",
    "Could the fund cover {subject} while the recognition procedure is running?",
    "Who should coordinate {subject} between the municipality and the NGOs?",
    "Has anyone measured what {subject} change for women in particular?",
    "What happens to {subject} when the call for proposals closes for a year?",
    "Is there a way to make {subject} count as co-funding?",
    "Why are {subject} still not part of the regional plan?",
    "Would the managing authority accept simplified reporting for {subject}?",
    "Can small associations apply for {subject} without a lead partner?",
    "Does anyone have an example of {subject} that survived a change of government?",
)
REACTIONS = ("Agreed.", "+1", "Thanks, very useful!", "Same here.", "Good point!", "Exactly this.",
             "Could you share the link?", "Interesting, thanks.", "Yes!", "Fully agree with the previous speaker.",
             "Same experience in our region.", "Thank you for sharing this.")
REPLY_OPENERS = ("I agree with you. ", "Not sure about that: ", "Building on this, ", "Same in our case. ",
                 "To answer your question, ", "Good point, but ", "Thanks! ", "")
LIST_INTROS = ("What works for us:", "Three things we learned:", "Our proposals for the next programme:",
               "What is missing today:", "Priorities we would set:", "In short:")
LIST_ITEMS = (
    "one caseworker per family, from arrival to the first job", "language courses *during* working hours",
    "childcare next to the training centre", "a single contact point in the town hall",
    "flat rates per participant instead of time sheets", "calls for proposals that stay open all year",
    "bridging courses while qualifications are assessed", "mentors from the same community",
    "**core funding** for migrant-led organisations", "evening and weekend slots",
    "free public transport to courses", "interpreters in schools and hospitals",
    "a shared database of available housing", "traineeships paid from the first day",
    "training for front-office staff", "evaluation that counts more than attendance",
    "smaller groups for people with little schooling", "online classes for rural areas",
)
LINKS = ("See [our evaluation](https://example.org/evaluation-2024) for the figures.",
         "More in the pilot's report: https://example.org/pilot-report",
         "The toolkit is online at [example.org/toolkit](https://example.org/toolkit).")
ITALIAN = (
    "Nella nostra regione i corsi di lingua funzionano solo se c'è anche un servizio per i bambini.",
    "Il riconoscimento dei titoli richiede più di un anno e nel frattempo le persone perdono le competenze.",
    "Le associazioni dei migranti chiedono fondi stabili e non solo progetti di dodici mesi.",
    "A Bologna abbiamo un unico sportello per casa, lavoro e salute, e i risultati si vedono.",
    "I mediatori culturali negli ospedali dovrebbero essere pagati come il resto del personale.",
    "Mancano alloggi a prezzi accessibili proprio nelle città dove c'è lavoro.",
    "Chi coordina i servizi quando il progetto finisce e il finanziamento si ferma?",
    "Come possiamo coinvolgere le imprese senza lasciare tutto il lavoro ai volontari?",
    "Le scuole potrebbero ospitare i corsi per i genitori mentre i figli sono in classe.",
    "Il trasporto pubblico nelle aree rurali resta il primo ostacolo per la formazione.",
)
MODERATOR_PROMPTS = (
    "Welcome to the room! Let's start with the first guiding question: what works in your region?",
    "Thanks everyone. We have ten minutes left: what would you tell the managing authorities?",
    "Please keep messages short so that everyone can follow, and use the reply button to answer someone.",
    "Great discussion so far. Could someone from a local authority react to the last points?",
    "Let's move to the second question: what is missing in the current programme?",
    "I have promoted a few messages to the key takeaways; tell me if I missed something important.",
)
BACKCHANNEL = ("Can you watch the chat while I draft the takeaways?", "Two people asked about the recording.",
               "I hid a message that shared someone's phone number.", "Let's wrap up at quarter past.")
TAKEAWAYS = (
    "Stable, multi-year funding matters more than new projects: **small organisations** cannot plan on calls "
    "that open for four weeks a year.",
    "Childcare during courses is the condition for women's participation; where it exists, attendance doubles.",
    "Participants ask for *one* contact point for housing, work and health instead of separate offices.",
    "Simplified cost options (flat rates per participant) would let volunteers' associations apply at all.",
    "Recognition of qualifications should run in parallel with bridging courses, not before them.",
    "Rural areas need transport and online options first:\n\n- free bus passes for trainees\n"
    "- online language classes\n- mobile advice days",
)
HIDE_REASONS = ("Personal data (a phone number)", "Off topic: advertising", "Insulting another participant",
                "Spam")


def _sentence(rng: random.Random) -> str:
    opener = rng.choice(OPENERS).format(city=rng.choice(CITIES))
    subject = rng.choice(SUBJECTS)
    if not opener:
        subject = subject[0].upper() + subject[1:]
    if rng.random() < 0.08:
        subject = f"**{subject}**"
    return opener + subject + " " + rng.choice(PREDICATES) + rng.choice(CLOSERS) + "."


def _question(rng: random.Random) -> str:
    return rng.choice(QUESTIONS).format(subject=rng.choice(SUBJECTS))


def _paragraph(rng: random.Random, sentences: int) -> str:
    return " ".join(_sentence(rng) for _ in range(sentences))


def _list(rng: random.Random) -> str:
    items = rng.sample(LIST_ITEMS, rng.randint(2, 5))
    numbered = rng.random() < 0.3
    lines = [f"{i}. {item}" if numbered else f"- {item}" for i, item in enumerate(items, start=1)]
    return rng.choice(LIST_INTROS) + "\n\n" + "\n".join(lines)


def participant_body(rng: random.Random, italian: bool, reply: bool) -> str:
    """A participant's message: a reaction, a sentence or a paragraph, a question, a list..."""
    if italian and rng.random() < 0.5:
        return " ".join(rng.sample(ITALIAN, rng.randint(1, 3)))
    roll = rng.random()
    if roll < 0.08:
        body = rng.choice(REACTIONS)
    elif roll < 0.38:
        body = _sentence(rng)
    elif roll < 0.62:
        body = _paragraph(rng, rng.randint(2, 4))
    elif roll < 0.74:
        body = _paragraph(rng, rng.randint(1, 3)) + " " + _question(rng)
    elif roll < 0.82:
        body = _question(rng)
    elif roll < 0.92:
        body = _paragraph(rng, rng.randint(1, 2)) + "\n\n" + _list(rng)
    else:
        body = _paragraph(rng, rng.randint(2, 3)) + "\n\n" + _paragraph(rng, rng.randint(1, 2))
        if rng.random() < 0.5:
            body += " " + rng.choice(LINKS)
    if reply and roll >= 0.08:
        opener = rng.choice(REPLY_OPENERS)
        body = opener + (body[0].lower() + body[1:] if opener.endswith(": ") or opener.endswith(", ") else body)
    return body


# --- The event -------------------------------------------------------------------------------

def _weighted(rng: random.Random, pairs) -> str:
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]


def _render_chunk(bodies: list[str]) -> list[str]:
    """In a pool process: what the app stores as body_html (forum.rendering, no mentions)."""
    from forum.rendering import render_markdown

    return [render_markdown(body) for body in bodies]


def render_all(bodies: list[str]) -> dict[str, str]:
    """Each distinct body rendered once, over every core when there are many."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    distinct = list(dict.fromkeys(bodies))
    workers = min(os.cpu_count() or 1, 4)
    if len(distinct) < 3000 or workers == 1:
        return dict(zip(distinct, _render_chunk(distinct), strict=True))
    size = -(-len(distinct) // (workers * 4))
    chunks = [distinct[i:i + size] for i in range(0, len(distinct), size)]
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        rendered = [html for part in pool.map(_render_chunk, chunks) for html in part]
    return dict(zip(distinct, rendered, strict=True))


def _insert(table, rows: list[dict], chunk: int = 5000) -> None:
    from sqlalchemy import insert

    from forum.extensions import db

    for start in range(0, len(rows), chunk):
        db.session.execute(insert(table), rows[start:start + chunk])


def build_event(n_posts: int, live_clients: int, seed: int = 1) -> dict:
    """The event, in the current app context's database (migrated, empty). Returns its ids,
    the organiser's and the live clients' e-mail addresses, and what it holds."""
    from sqlalchemy import text
    from werkzeug.security import generate_password_hash

    from forum.extensions import db
    from forum.models import Endorsement, Event, EventMember, ModerationAction, Post, PostStatus, Room, User
    from forum.models.base import utcnow
    from forum.models.events import EventStatus, MemberRole, Moderator, RoomPhase
    from forum.models.moderation import Takeaway
    from forum.rendering import render_markdown

    rng = random.Random(seed)
    began = time.perf_counter()
    now = utcnow()
    start = now - timedelta(hours=3, minutes=30)
    password_hash = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1")  # nobody measures hashing
    users: list[dict] = []

    def person(email: str, country: str | None = None, organisation_type: str | None = None, **more) -> int:
        user_id = len(users) + 1
        country = country or _weighted(rng, COUNTRIES)
        organisation_type = organisation_type or _weighted(rng, ORGANISATION_TYPES)
        names = FIRST_NAMES.get(country, FIRST_NAMES["other"])
        users.append(dict(
            id=user_id, email=email, password_hash=password_hash,
            display_name=f"{rng.choice(names)} {rng.choice(LAST_NAMES)}", handle=f"u{user_id}",
            organisation=ORGANISATION_NAMES[organisation_type].format(city=rng.choice(CITIES)),
            organisation_type=organisation_type, country=country, role_title="",
            preferred_language="it" if country == "IT" else "en", timezone="Europe/Brussels",
            named_in_reports=more.get("named", rng.random() > 0.1), is_admin=False,
            session_token=secrets.token_urlsafe(24), created_at=start - timedelta(days=rng.randint(1, 60)),
            email_immediate=True, digest_frequency="daily", is_organiser=more.get("is_organiser", False)))
        return user_id

    organiser = person("organiser@bench.example", "BE", "eu_institution", is_organiser=True, named=True)
    active = max(8, round(n_posts / POSTS_PER_ACTIVE))
    silent = round(active * 0.25)
    observers = max(1, round(active * 0.05))
    participants = [person(f"participant{i}@bench.example") for i in range(active + silent)]
    observer_ids = [person(f"observer{i}@bench.example") for i in range(observers)]
    live_ids = [person(f"live{i}@bench.example") for i in range(live_clients)]
    moderators_of: dict[int, list[int]] = {}
    for position in range(1, len(BREAKOUT_ROOMS) + 1):
        moderators_of[position] = [person(f"moderator{position}-{k}@bench.example", named=True)
                                   for k in range(rng.choice((2, 2, 3)))]
    _insert(User.__table__, users)

    event = Event(title="European Integration Forum: from reception to participation",
                  description="Two days of exchange between cities, regions, civil society and the "
                              "managing authorities of the **EU funds** on what helps newcomers settle.",
                  agenda="1. Opening plenary\n2. Breakout rooms\n3. Report-back and closing",
                  starts_at=start, ends_at=now + timedelta(hours=1), status=EventStatus.PUBLISHED,
                  owner_id=organiser)
    event.description_html = render_markdown(event.description, document=True)
    event.agenda_html = render_markdown(event.agenda, document=True)
    event.rooms.append(Room(position=0, title="Plenary", description="Opening, report-back and closing.",
                            phase=RoomPhase.OPEN))
    for position, (title, description) in enumerate(BREAKOUT_ROOMS, start=1):
        event.rooms.append(Room(position=position, title=title, description=description, phase=RoomPhase.OPEN))
    db.session.add(event)
    db.session.flush()
    room_ids = [room.id for room in event.rooms]  # by position; 0 is the plenary
    _insert(Moderator.__table__, [dict(user_id=u, room_id=room_ids[p]) for p, ids in moderators_of.items()
                                  for u in ids])
    room_of: dict[int, int] = {}
    members: list[dict] = []
    for user_id in participants + observer_ids:
        position = rng.choices(range(1, len(BREAKOUT_ROOMS) + 1), weights=ROOM_WEIGHTS)[0]
        room_of[user_id] = position
        members.append(dict(event_id=event.id, user_id=user_id, room_id=room_ids[position],
                            role=MemberRole.OBSERVER if user_id in observer_ids else MemberRole.PARTICIPANT,
                            registered_at=start - timedelta(days=rng.randint(1, 30))))
    for user_id in live_ids:
        room_of[user_id] = LIVE_ROOM
        members.append(dict(event_id=event.id, user_id=user_id, room_id=room_ids[LIVE_ROOM],
                            role=MemberRole.PARTICIPANT, registered_at=start - timedelta(days=2)))
    _insert(EventMember.__table__, members)

    # Who writes, where and when: a plenary (0:00-0:40), the breakout rooms (0:45-2:45), the
    # report-back (2:50-3:30); some people write far more than others.
    writers = participants[:active]
    activity = [rng.lognormvariate(0, 0.9) for _ in writers]
    n_moderator, n_back = round(n_posts * 0.04), round(n_posts * 0.01)
    n_organiser = min(20, max(2, n_posts // 2000))
    n_participant = n_posts - n_moderator - n_back - n_organiser
    periods = ((0, 40, 0.15), (45, 165, 0.75), (170, 210, 0.10))

    def moment(period) -> object:
        return start + timedelta(minutes=rng.uniform(period[0], period[1]))

    plan = []  # (created_at, room position, author, backchannel, kind)
    for author in rng.choices(writers, weights=activity, k=n_participant):
        period = rng.choices(periods, weights=[p[2] for p in periods])[0]
        plan.append((moment(period), 0 if period is not periods[1] else room_of[author], author, False, "p"))
    moderator_pairs = [(p, u) for p, ids in moderators_of.items() for u in ids]
    for _ in range(n_moderator):
        position, author = rng.choice(moderator_pairs)
        plan.append((moment(periods[1]), position, author, False, "m"))
    for _ in range(n_back):
        position, author = rng.choice(moderator_pairs)
        plan.append((moment(periods[1]), position, author, True, "b"))
    for i in range(n_organiser):
        plan.append((moment(periods[0] if i % 2 == 0 else periods[2]), 0, organiser, False, "o"))
    plan.sort(key=lambda p: p[0])

    user_country = {u["id"]: u["country"] for u in users}
    user_organisation = {u["id"]: u["organisation"] for u in users}
    posts: list[dict] = []
    recent: dict[tuple[int, bool], deque] = defaultdict(lambda: deque(maxlen=30))
    replies_to: Counter = Counter()
    for post_id, (created, position, author, backchannel, kind) in enumerate(plan, start=1):
        room_id = room_ids[position]
        earlier = recent[(room_id, backchannel)]
        parent = rng.choice(earlier) if earlier and kind == "p" and rng.random() < 0.25 else None
        if kind == "p":
            body = participant_body(rng, user_country[author] == "IT", parent is not None)
        elif kind == "m":
            body = rng.choice(MODERATOR_PROMPTS)
        elif kind == "b":
            body = rng.choice(BACKCHANNEL)
        else:
            body = rng.choice(MODERATOR_PROMPTS[:2]) + " " + _paragraph(rng, 1)
        thread_id = parent[1] if parent else post_id
        if parent:
            replies_to[thread_id] += 1
        on_behalf = kind == "p" and rng.random() < 0.04
        posts.append(dict(
            id=post_id, consultation_id=None, topic_id=None, room_id=room_id, backchannel=backchannel,
            announcement=False, parent_id=parent[0] if parent else None,
            quoted_post_id=parent[0] if parent and rng.random() < 0.3 else None, thread_id=thread_id,
            author_id=author, subject="", body=body, body_html="", stance=None,
            on_behalf_of_organisation=on_behalf, organisation_name=user_organisation[author] if on_behalf else "",
            created_at=created, edited_at=created + timedelta(minutes=2) if rng.random() < 0.02 else None,
            deleted_at=None, endorsement_count=0, reply_count=0, client_key=None, status=PostStatus.PUBLISHED,
            hidden_at=None, hidden_by_id=None, hidden_reason="", rejected_reason="", pinned_at=None, locked_at=None))
        earlier.append((post_id, thread_id))
    generated = time.perf_counter()
    rendered = render_all([p["body"] for p in posts])
    for post in posts:
        post["body_html"] = rendered[post["body"]]
        post["reply_count"] = replies_to.get(post["id"], 0)
    rendering = time.perf_counter() - generated

    # Moderation: a few hidden and deleted posts, two pins per room, mutes, the rooms' phases.
    actions: list[dict] = []
    members_by_room: dict[int, list[int]] = defaultdict(list)
    for user_id, position in room_of.items():
        members_by_room[room_ids[position]].append(user_id)
    everyone = [u for ids in members_by_room.values() for u in ids]
    moderator_of_room = {room_ids[p]: ids for p, ids in moderators_of.items()}

    def action(kind: str, actor: int, at, room_id=None, **fields) -> None:
        actions.append(dict(event_id=event.id, consultation_id=None, room_id=room_id, actor_id=actor, action=kind,
                            post_id=fields.pop("post_id", None), target_user_id=fields.pop("target_user_id", None),
                            reason=fields.pop("reason", ""), details=fields, created_at=at))

    for position, room_id in enumerate(room_ids):
        action("room.phase", organiser, start + timedelta(minutes=0 if position == 0 else 45), room_id, phase="open")
    participant_posts = [p for p in posts if p["author_id"] not in moderator_of_room.get(p["room_id"], ())
                         and not p["backchannel"] and p["author_id"] != organiser]
    for post in rng.sample(participant_posts, max(1, len(participant_posts) // 250)):
        moderator = rng.choice(moderator_of_room.get(post["room_id"], [organiser]))
        reason = rng.choice(HIDE_REASONS)
        post.update(hidden_at=post["created_at"] + timedelta(minutes=2), hidden_by_id=moderator, hidden_reason=reason)
        action("post.hidden", moderator, post["hidden_at"], post["room_id"], post_id=post["id"],
               target_user_id=post["author_id"], reason=reason, flags_resolved=rng.choice((0, 1, 2)))
    for post in rng.sample(participant_posts, max(1, len(participant_posts) // 330)):
        if post["hidden_at"] is None:
            post.update(deleted_at=post["created_at"] + timedelta(minutes=5), body="", body_html="")
    for room_id in room_ids:
        in_room = [p for p in participant_posts if p["room_id"] == room_id and p["hidden_at"] is None
                   and p["deleted_at"] is None]
        for post in rng.sample(in_room, min(2, len(in_room))):
            moderator = rng.choice(moderator_of_room.get(room_id, [organiser]))
            post["pinned_at"] = post["created_at"] + timedelta(minutes=1)
            action("post.pinned", moderator, post["pinned_at"], room_id, post_id=post["id"])
    for post in rng.sample(participant_posts, min(3, len(participant_posts))):
        moderator = rng.choice(moderator_of_room.get(post["room_id"], [organiser]))
        action("user.muted", moderator, post["created_at"] + timedelta(minutes=3), post["room_id"],
               target_user_id=post["author_id"], reason="Repeated off-topic messages", minutes=10)
    action("event.broadcast", organiser, start + timedelta(minutes=150), None)
    action("event.recall", organiser, start + timedelta(minutes=166), None)

    # Endorsements: most posts none, some a few, a handful many, by people of the same room.
    endorsements: list[dict] = []
    for post in posts:
        short = len(post["body"]) < 40  # "+1", "Thanks!": rarely endorsed
        if post["backchannel"] or post["deleted_at"] is not None or rng.random() < (0.9 if short else 0.55):
            continue
        pool = members_by_room[post["room_id"]] if post["room_id"] != room_ids[0] else everyone
        count = min(int(rng.paretovariate(1.3)), 60, max(0, len(pool) - 1))
        voters = [u for u in rng.sample(pool, min(len(pool), count + 1)) if u != post["author_id"]][:count]
        post["endorsement_count"] = len(voters)
        endorsements += [dict(post_id=post["id"], user_id=u,
                              created_at=min(now, post["created_at"] + timedelta(minutes=rng.uniform(0, 30))))
                         for u in voters]

    # Key takeaways: 4 to 6 per breakout room, about half promoted from a well endorsed post.
    takeaways: list[dict] = []
    for position in range(1, len(BREAKOUT_ROOMS) + 1):
        room_id = room_ids[position]
        best = sorted((p for p in participant_posts if p["room_id"] == room_id and p["hidden_at"] is None
                       and p["deleted_at"] is None and len(p["body"]) > 80 and "?" not in p["body"]),
                      key=lambda p: -p["endorsement_count"])[:6]
        written = rng.sample(TAKEAWAYS, len(TAKEAWAYS))
        for n in range(1, rng.randint(4, 6) + 1):
            moderator = rng.choice(moderators_of[position])
            at = start + timedelta(minutes=150 + n)
            source = best.pop(0) if best and rng.random() < 0.5 else None
            body = source["body"].split("\n\n")[0] if source else written.pop()
            takeaways.append(dict(room_id=room_id, position=n, body=body, body_html=render_markdown(body),
                                  source_post_id=source["id"] if source else None,
                                  credited_user_id=source["author_id"] if source else None,
                                  created_by_id=moderator, created_at=at, updated_at=at, deleted_at=None))
            if source:
                action("takeaway.promoted", moderator, at, room_id, post_id=source["id"])

    _insert(Post.__table__, posts)
    _insert(Endorsement.__table__, endorsements)
    _insert(Takeaway.__table__, takeaways)
    _insert(ModerationAction.__table__, sorted(actions, key=lambda a: a["created_at"]))
    if db.engine.dialect.name == "postgresql":  # ids given above: the sequences go on after them
        for table in ("user", "post"):
            db.session.execute(text(f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                                    f"(SELECT max(id) FROM \"{table}\"))"))
    db.session.commit()
    if db.engine.dialect.name == "postgresql":  # statistics, as autovacuum keeps them in production
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE")
    published = [p for p in posts if not p["backchannel"]]
    return {
        "event_id": event.id, "live_room_id": room_ids[LIVE_ROOM], "live_room_title": BREAKOUT_ROOMS[LIVE_ROOM - 1][0],
        "organiser": "organiser@bench.example", "live": [f"live{i}@bench.example" for i in range(live_clients)],
        "posts": len(posts), "room_posts": len(published), "backchannel": len(posts) - len(published),
        "replies": sum(1 for p in posts if p["parent_id"]), "endorsements": len(endorsements),
        "hidden": sum(1 for p in posts if p["hidden_at"]), "deleted": sum(1 for p in posts if p["deleted_at"]),
        "takeaways": len(takeaways), "actions": len(actions), "questions": sum(1 for p in posts if "?" in p["body"]),
        "lists": sum(1 for p in posts if "\n- " in p["body"] or "\n1. " in p["body"]),
        "active": active, "registered": active + silent + observers + live_clients, "observers": observers,
        "moderators": sum(len(ids) for ids in moderators_of.values()), "rooms": len(room_ids),
        "distinct_bodies": len(rendered), "seconds": time.perf_counter() - began, "render_seconds": rendering,
    }


def queue_report(event_id: int, fmt: str) -> int:
    """A report row as request_report leaves it (queued), without queueing a job."""
    from forum.extensions import db
    from forum.models import ReportFile, ReportStatus, User

    organiser = db.session.scalar(db.select(User).where(User.email == "organiser@bench.example"))
    report = ReportFile(user_id=organiser.id, kind="event", object_id=event_id, title="Bench event", format=fmt,
                        filename=f"plenary-event-{event_id}-bench.{fmt}", language="en",
                        timezone="Europe/Brussels", status=ReportStatus.QUEUED, progress=0)
    db.session.add(report)
    db.session.commit()
    return report.id


# --- The job in a fresh process (what `flask --app wsgi worker` does) --------------------------

def _status_kb(field: str) -> int:
    """VmRSS (now) or VmHWM (the peak) of this process, in kB. Not ru_maxrss: a child started
    by subprocess (vfork, then exec) inherits its parent's ru_maxrss, so a child of a parent
    holding 300 MB reports at least 300 MB whatever it does; VmHWM starts afresh at exec."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def child_build(report_id: int | None) -> dict:
    """In the subprocess (environment: DATABASE_URL, REPORTS_DIR, ...): the app as the worker
    loads it (wsgi), connected; then, given a report id, the job."""
    from sqlalchemy import text

    import wsgi
    from forum.extensions import db

    app = wsgi.app
    with app.app_context():
        db.session.execute(text("SELECT 1"))
        db.session.remove()
    figures = {"idle_kb": _status_kb("VmRSS"), "idle_peak_kb": _status_kb("VmHWM"),
               "inherited_maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}
    if report_id is None:
        return figures
    import forum.exports.report as report_export
    import forum.services.reports as reports
    from forum import jobs
    from forum.models import ReportFile

    parts = {"build_report": 0.0, "render": 0.0}

    def timed(name, function):
        def run(*args, **kwargs):
            began = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                parts[name] += time.perf_counter() - began
        return run

    # Timers around the two parts, looked up by the job when it calls them (nothing edited).
    report_export.build_report = timed("build_report", report_export.build_report)
    reports.render = timed("render", reports.render)
    began, cpu = time.perf_counter(), time.process_time()
    with app.app_context():
        jobs.perform("forum.services.reports.build", [report_id])  # as the worker runs it
    figures.update(seconds=time.perf_counter() - began, cpu=time.process_time() - cpu,
                   peak_kb=_status_kb("VmHWM"), **parts)
    with app.app_context():
        report = db.session.get(ReportFile, report_id)
        figures.update(status=report.status.value, size=report.size, error=report.error)
    return figures


def child_env(url: str, reports_dir: Path) -> dict:
    env = dict(os.environ, DATABASE_URL=url, SECRET_KEY=secrets.token_urlsafe(32), PLENARY_ENV="development",
               REPORTS_DIR=str(reports_dir), RATELIMIT_ENABLED="false", PYTHONPATH=str(ROOT))
    env.pop("REDIS_URL", None)
    return env


def run_child(url: str, reports_dir: Path, report_id: int | None, profile: Path | None = None) -> dict:
    command = [sys.executable, str(Path(__file__).resolve()), "--child-build", str(report_id or 0)]
    if profile is not None:
        py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
        command = [py_spy, "record", "--idle", "--rate", "200", "--format", "speedscope", "-o", str(profile),
                   "--", *command]
    result = subprocess.run(command, cwd=ROOT, env=child_env(url, reports_dir), capture_output=True, text=True,
                            timeout=1800)
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    if result.returncode != 0 or not lines:
        raise RuntimeError(f"the build process failed ({result.returncode}):\n{result.stderr[-3000:]}")
    return json.loads(lines[-1])


# --- Databases -------------------------------------------------------------------------------

class Databases:
    """A fresh database per size: a SQLite file in the temporary directory, or a PostgreSQL
    database named after --database-url's with the size appended, made and dropped here."""

    def __init__(self, base_url: str | None, tmp: Path):
        self.base, self.tmp, self.made = base_url, tmp, []

    def fresh(self, n_posts: int) -> str:
        if not self.base:
            url = f"sqlite:///{self.tmp / f'reports-{n_posts}.db'}"
        else:
            from sqlalchemy.engine import make_url

            u = make_url(sqlalchemy_url(self.base))
            name = f"{u.database}_{n_posts}"
            self._drop(name)
            url = u.set(database=name).render_as_string(hide_password=False)
            ensure_postgres_database(url)
        self.made.append(url)
        migrate(url)
        return url

    def drop(self, url: str) -> None:
        if url.startswith("sqlite:///"):
            for suffix in ("", "-wal", "-shm"):
                Path(url[len("sqlite:///"):] + suffix).unlink(missing_ok=True)
        else:
            from sqlalchemy.engine import make_url

            self._drop(make_url(url).database)
        if url in self.made:
            self.made.remove(url)

    def _drop(self, name: str) -> None:
        import psycopg
        from sqlalchemy.engine import make_url

        u = make_url(sqlalchemy_url(self.base))
        with psycopg.connect(host=u.host or "127.0.0.1", port=u.port or 5432, user=u.username, password=u.password,
                             dbname="postgres", autocommit=True, connect_timeout=10) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def label(self) -> str:
        return "PostgreSQL" if self.base else "SQLite (temporary file)"


def app_for(url: str):
    from forum import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": sqlalchemy_url(url), "RATELIMIT_ENABLED": False})


# --- Part 1: build time and memory -------------------------------------------------------------

def part_builds(args, databases: Databases, tmp: Path) -> tuple[list[dict], dict | None]:
    """Every size and format; returns the rows and the largest size's event (its database kept)."""
    from forum.extensions import db

    rows, kept = [], None
    sizes = sorted(args.sizes)
    idle = None
    header = (f"{'posts':>8} {'format':<6} {'seconds':>8} {'build':>7} {'write':>7} {'CPU s':>7} {'file kB':>9} "
              f"{'idle MB':>8} {'peak MB':>8} {'added MB':>9}  goal at {GOAL_POSTS:,}: < {GOAL_SECONDS:g} s, "
              f"< {GOAL_PEAK_MB:g} MB peak")
    for n in sizes:
        began = time.perf_counter()
        url = databases.fresh(n)
        migrated = time.perf_counter() - began
        app = app_for(url)
        with app.app_context():
            info = build_event(n, args.clients)
            db.session.remove()
            db.engine.dispose()
        info["url"] = url
        print(f"\n{n:,} posts: {info['room_posts']:,} in the rooms and {info['backchannel']:,} in the back-channels, "
              f"{info['replies']:,} replies, {info['questions']:,} with a question, {info['lists']:,} with a list, "
              f"{info['endorsements']:,} endorsements, {info['hidden']} hidden, {info['deleted']} deleted, "
              f"{info['takeaways']} takeaways, {info['actions']} moderation actions; {info['active']:,} active "
              f"participants of {info['registered']:,} registered ({info['observers']} observers), "
              f"{info['moderators']} co-moderators, {info['rooms']} rooms", flush=True)
        print(f"  database migrated in {migrated:.1f} s, event made in {info['seconds']:.1f} s "
              f"({info['distinct_bodies']:,} distinct bodies rendered in {info['render_seconds']:.1f} s)", flush=True)
        if idle is None:
            idle = run_child(url, tmp / "reports", None)
            print(f"  idle app process (wsgi imported, one query; the baseline): RSS {idle['idle_kb'] / 1024:.1f} MB, "
                  f"peak {idle['idle_peak_kb'] / 1024:.1f} MB\n", flush=True)
            print(header)
        for fmt in args.formats:
            runs = []
            for _ in range(args.repeat):
                with app.app_context():
                    report_id = queue_report(info["event_id"], fmt)
                    db.engine.dispose()
                runs.append(run_child(url, tmp / "reports", report_id))
            runs.sort(key=lambda r: r["seconds"])
            row = {"posts": n, "format": fmt, **runs[(len(runs) - 1) // 2],  # the median run (lower middle)
                   "runs": [r["seconds"] for r in runs], "peak_max_kb": max(r["peak_kb"] for r in runs)}
            rows.append(row)
            print(_build_row(row), flush=True)
        if n == sizes[-1]:
            kept = info
        else:
            databases.drop(url)
    return rows, kept


def _build_row(r: dict) -> str:
    write = r["seconds"] - r["build_report"] - r["render"]
    peak, idle = r["peak_kb"] / 1024, r["idle_kb"] / 1024
    goal = ""
    if r["posts"] == GOAL_POSTS:
        misses = [what for what, bad in (("time", r["seconds"] >= GOAL_SECONDS), ("memory", peak >= GOAL_PEAK_MB))
                  if bad]
        goal = "PASS" if not misses else "FAIL: " + ", ".join(misses)
    if r["status"] != "done":
        goal = f"{r['status'].upper()}: {r['error']}"
    if len(r["runs"]) > 1:
        goal += f"  (runs {', '.join(f'{t:.2f}' for t in r['runs'])} s; highest peak {r['peak_max_kb'] / 1024:.1f} MB)"
    return (f"{r['posts']:>8,} {r['format']:<6} {r['seconds']:>8.2f} {r['build_report']:>7.2f} "
            f"{r['render'] + write:>7.2f} {r['cpu']:>7.2f} {r['size'] / 1024:>9.1f} {idle:>8.1f} {peak:>8.1f} "
            f"{peak - idle:>9.1f}  {goal}")


def print_ratios(rows: list[dict]) -> None:
    sizes = sorted({r["posts"] for r in rows})
    if len(sizes) < 2:
        return
    small, large = sizes[0], sizes[-1]
    print(f"\nratios {large:,} / {small:,} posts ({large / small:g}x the posts):")
    for fmt in dict.fromkeys(r["format"] for r in rows):
        a = next((r for r in rows if r["posts"] == small and r["format"] == fmt), None)
        b = next((r for r in rows if r["posts"] == large and r["format"] == fmt), None)
        if a and b:
            added_a, added_b = a["peak_kb"] - a["idle_kb"], b["peak_kb"] - b["idle_kb"]
            print(f"  {fmt:<5} time {b['seconds'] / a['seconds']:6.1f}x   "
                  f"peak RSS {b['peak_kb'] / a['peak_kb']:5.2f}x   "
                  f"memory added over idle {added_b / max(added_a, 1):6.1f}x   "
                  f"file {b['size'] / max(a['size'], 1):5.2f}x")


# --- Part 3: py-spy ----------------------------------------------------------------------------

def profile_build(args, info: dict, tmp: Path) -> None:
    from forum.extensions import db

    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(py_spy).exists():
        print("\n--profile: py-spy is not installed (.venv/bin/pip install py-spy); skipped")
        return
    fmt = args.profile_format
    out = Path(args.profile_out or f"/tmp/report-{info['posts'] // 1000}k-{fmt}.speedscope.json")
    app = app_for(info["url"])
    with app.app_context():
        report_id = queue_report(info["event_id"], fmt)
        db.engine.dispose()
    figures = run_child(info["url"], tmp / "reports", report_id, profile=out)
    print(f"\npy-spy, {info['posts']:,} posts, {fmt} ({figures['seconds']:.2f} s under the profiler, "
          f"{figures['status']}); speedscope file: {out}")
    print_hotspots(out)


def _short(path: str) -> str:
    """A frame's file from the project's root, site-packages or the standard library."""
    import re

    for marker in ("site-packages/", str(ROOT) + "/"):
        if marker in path:
            return path.split(marker, 1)[1]
    return re.sub(r"^.*/lib/python3\.\d+/", "", path)


def print_hotspots(path: Path, top: int = 12) -> None:
    """Shares of the job's time (the samples whose stack holds forum/services/reports.py's
    build; py-spy's weights are seconds): by line of our code (the deepest forum/ frame), by
    function running (own time, libraries included), and by function on the stack."""
    data = json.loads(path.read_text())
    frames = data["shared"]["frames"]
    ours, own, inclusive, total = Counter(), Counter(), Counter(), 0.0
    wrappers = ("bench/", "forum/jobs.py", "<frozen")
    for profile in data["profiles"]:
        for stack, weight in zip(profile["samples"], profile["weights"], strict=True):
            named = [(frames[i]["name"], _short(frames[i].get("file", "")), frames[i].get("line")) for i in stack]
            if not any(name == "build" and file.endswith("forum/services/reports.py") for name, file, _ in named):
                continue
            total += weight
            own[named[-1][:2]] += weight
            deepest = next(((name, f"{file}:{line}") for name, file, line in reversed(named)
                            if file.startswith("forum/")), None)
            if deepest:
                ours[deepest] += weight
            for key in {(name, file) for name, file, _ in named if not file.startswith(wrappers)}:
                inclusive[key] += weight
    if not total:
        print("  no samples inside reports.build")
        return
    for title, counts in (("where in our code (the deepest forum/ frame)", ours),
                          ("own time (the function running, libraries included)", own),
                          ("inclusive (every function on the stack)", inclusive)):
        print(f"  {title}, share of the job's {total:.1f} s:")
        for (name, file), weight in counts.most_common(top):
            print(f"    {weight / total:6.1%} {weight:6.2f} s  {name:<40} {file}")


# --- Part 2: a busy room while the report builds ----------------------------------------------

class DeployedServer(Server):
    """gunicorn as docs/deploy.md runs it (gevent, one worker, its default --timeout of 30 s),
    except a shorter --graceful-timeout so the script stops quickly."""

    def __init__(self, name: str, port: int, env: dict, logdir: Path):
        self.name, self.port = name, port
        self.log = logdir / f"{name}.log"
        cmd = [sys.executable, "-m", "gunicorn", "--worker-class", "gevent", "--workers", "1",
               "--worker-connections", "5000", "--bind", f"127.0.0.1:{port}", "--graceful-timeout", "5",
               "--log-level", "warning", "wsgi:app"]
        self.command = " ".join(cmd[1:])
        self._logfile = open(self.log, "wb")
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=self._logfile, stderr=subprocess.STDOUT,
                                     start_new_session=True)


class Worker:
    """`flask --app wsgi worker` (RQ) in its own session, on the server's environment."""

    def __init__(self, env: dict, logdir: Path, nice: int = 0):
        self.log = logdir / "worker.log"
        self._logfile = open(self.log, "wb")
        command = [sys.executable, "-m", "flask", "--app", "wsgi", "worker"]
        if nice:  # as systemd's Nice= would run it
            command = ["nice", "-n", str(nice), *command]
        self.proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=self._logfile, stderr=subprocess.STDOUT,
                                     start_new_session=True)

    def wait_ready(self, redis_url: str, queue_name: str, timeout: float = 60.0) -> None:
        import redis

        client = redis.Redis.from_url(redis_url)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the worker exited with {self.proc.returncode}:\n{self.log.read_text()[-2000:]}")
            if client.scard(f"rq:workers:{queue_name}"):
                return
            time.sleep(0.2)
        raise RuntimeError(f"the worker did not register in {timeout:.0f} s:\n{self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # RQ's warm shutdown
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.proc.wait(timeout=5)
        self._logfile.close()


def redis_reachable(url: str) -> str | None:
    """None if Redis answers, else why not."""
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2).ping()
        return None
    except Exception as error:  # noqa: BLE001 - any failure means: skip
        return f"{type(error).__name__}: {error}"


def forget_redis_keys(url: str, run_id: str) -> None:
    """Delete this run's keys (presence, the queue, RQ's registries): only those naming run_id."""
    try:
        import redis

        client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        keys = list(client.scan_iter(match=f"*{run_id}*", count=500))
        if keys:
            client.delete(*keys)
    except Exception as error:  # noqa: BLE001 - cleaning up must not hide the figures
        print(f"could not delete this run's Redis keys: {error}", file=sys.stderr)


def organiser_session(base: str, email: str):
    """A requests session logged in through the form (as bench.socket_load.login)."""
    import re

    import requests

    http = requests.Session()
    http.headers["User-Agent"] = USER_AGENT
    page = http.get(f"{base}/login", timeout=15)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text).group(1)
    response = http.post(f"{base}/login", data={"email": email, "password": PASSWORD, "csrf_token": token},
                         allow_redirects=False, timeout=15)
    if response.status_code != 302:
        raise RuntimeError(f"the organiser's log-in answered {response.status_code}")
    return http


def ask_for_report(http, base: str, event_id: int, fmt: str) -> dict:
    """The export page's form: GET it for the CSRF token, POST the format (303 to the report)."""
    import re

    page = http.get(f"{base}/exports/event/{event_id}", timeout=30)
    page.raise_for_status()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text).group(1)
    began = time.monotonic()
    try:
        response = http.post(f"{base}/exports/event/{event_id}/reports", data={"format": fmt, "csrf_token": token},
                             allow_redirects=False, timeout=REPORT_TIMEOUT)
    except OSError as error:  # requests' errors: e.g. the process was killed mid-build (gunicorn's --timeout)
        return {"status": type(error).__name__, "location": "", "seconds": time.monotonic() - began}
    return {"status": response.status_code, "location": response.headers.get("Location", ""),
            "seconds": time.monotonic() - began}


class ReportWatch:
    """Reads the newest report row after `after_id` straight from the database."""

    def __init__(self, url: str):
        from sqlalchemy import create_engine

        from forum.models import ReportFile

        self.table = ReportFile.__table__  # its column types read the dates back as the app does
        self.engine = create_engine(sqlalchemy_url(url))
        self.after_id = 0
        self.mark()

    def mark(self) -> None:
        """From now on, watch only rows added after the newest one."""
        from sqlalchemy import func, select

        with self.engine.connect() as connection:
            self.after_id = connection.scalar(select(func.coalesce(func.max(self.table.c.id), 0)))

    def state(self) -> dict | None:
        from sqlalchemy import select

        c = self.table.c
        with self.engine.connect() as connection:
            row = connection.execute(select(c.id, c.status, c.size, c.started_at, c.finished_at, c.error)
                                     .where(c.id > self.after_id).order_by(c.id.desc()).limit(1)).first()
        if row is None:
            return None
        state = dict(row._mapping)
        state["status"] = getattr(state["status"], "value", state["status"])
        return state

    def close(self) -> None:
        self.engine.dispose()


class LiveRoom:
    """C signed-in participants in one room's stream; W of them post, open loop, R a second."""

    def __init__(self, base: str, stream: str, cookies: list[str], writers: int, rate: float, run_id: str):
        self.base, self.stream, self.cookies = base, stream, cookies
        self.writers, self.rate, self.run_id = writers, rate, run_id
        self.connections: list = []
        self.received: dict[int, list[float]] = defaultdict(list)  # seq -> arrival times
        self.sent: dict[int, tuple[float, str]] = {}  # seq -> (send time, phase)
        self.unacked: Counter = Counter()
        self.errors: Counter = Counter()
        self.disconnected = 0
        self.phase = "warm-up"
        self.stopping = False
        self.in_flight: list = []

    def _on_message(self, name: str, payload) -> None:
        if (name == "event" and isinstance(payload, dict) and payload.get("stream") == self.stream
                and payload.get("type") == "post.created"):
            self.received[payload["seq"]].append(time.monotonic())

    async def connect(self, http) -> None:
        from bench.storm import Connection

        headers = {"Origin": self.base, "User-Agent": USER_AGENT}
        for i, cookie in enumerate(self.cookies):
            connection = await Connection.open(http, self.base, dict(headers, Cookie=cookie), self._on_message)
            answer = await connection.call("join", {"stream": self.stream, "last_seq": None})
            if not answer.get("ok") or (i < self.writers and not answer.get("can_post")):
                raise RuntimeError(f"client {i} could not join {self.stream} to post: {answer!r}"[:300])
            self.connections.append(connection)

    async def _send(self, connection, i: int, phase: str) -> None:
        key = f"bench-{self.run_id}-{i}"
        sent_at = time.monotonic()
        body = _sentence(random.Random(i)) + f" (message {i})"
        try:
            answer = await connection.call("post", {"stream": self.stream, "parent_id": None, "body": body,
                                                    "client_key": key}, timeout=ACK_TIMEOUT)
        except Exception as error:  # noqa: BLE001 - a lost acknowledgement is a figure
            self.unacked[phase] += 1
            self.errors[type(error).__name__] += 1
            return
        if isinstance(answer, dict) and answer.get("ok") and answer["post"].get("seq"):
            self.sent[answer["post"]["seq"]] = (sent_at, phase)
        else:
            self.errors[str((answer or {}).get("error", {}).get("code", "?"))] += 1

    async def post(self) -> None:
        """Message i leaves at its slot from writer i mod W, acknowledged or not (open loop)."""
        t0, i = time.monotonic(), 0
        while not self.stopping:
            delay = t0 + i / self.rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
                continue
            connection = self.connections[i % self.writers]
            self.in_flight.append(asyncio.ensure_future(self._send(connection, i, self.phase)))
            i += 1

    async def settle(self, limit: float) -> float:
        """Wait until every message sent so far is acknowledged and has reached every client
        (the backlog a blocked server left), at most `limit` seconds; returns how long it took."""
        began = time.monotonic()
        while time.monotonic() - began < limit:
            if all(f.done() for f in self.in_flight) and all(
                    len(self.received.get(seq, ())) >= len(self.connections) for seq in self.sent):
                break
            await asyncio.sleep(0.05)
        return time.monotonic() - began

    async def close(self) -> None:
        self.disconnected = sum(1 for c in self.connections if c.closed.done())
        for connection in self.connections:
            try:
                await connection.ws.close()
            except Exception:  # noqa: BLE001
                pass

    def figures(self, phase: str) -> dict:
        clients = len(self.connections)
        latencies, lost, messages = [], 0, 0
        for seq, (sent_at, p) in self.sent.items():
            if p != phase:
                continue
            messages += 1
            arrivals = self.received.get(seq, [])
            latencies += [(t - sent_at) * 1000 for t in arrivals]
            lost += max(0, clients - len(arrivals))
        return {"messages": messages, "deliveries": len(latencies), "lost": lost, "unacked": self.unacked[phase],
                "p50": percentile(latencies, 50), "p95": percentile(latencies, 95),
                "max": max(latencies) if latencies else float("nan")}


async def _live_session(args, info: dict, base: str, cookies: list[str], organiser, watch: ReportWatch,
                        run_id: str, server_pids: list[int], worker_pid: int | None) -> dict:
    """--live-repeat times: --live-seconds without a report, then one report asked for and
    waited for; the messages are counted in the phase they were sent in."""
    import aiohttp

    loop = asyncio.get_running_loop()
    stream = f"room:{info['live_room_id']}"
    room = LiveRoom(base, stream, cookies, args.writers, args.rate, run_id)
    phases = {name: {"seconds": 0.0, "server_cpu": 0.0, "worker_cpu": 0.0} for name in ("no build", "report build")}
    reports, requests, recovery = [], [], []

    def cpu() -> tuple[float, float]:
        return cpu_seconds(server_pids), cpu_seconds([worker_pid]) if worker_pid else 0.0

    def add(name: str, began: float, cpu0: tuple[float, float]) -> None:
        cpu1 = cpu()
        phases[name]["seconds"] += time.monotonic() - began
        for i, key in enumerate(("server_cpu", "worker_cpu")):  # NaN once a process died (killed)
            phases[name][key] += cpu1[i] - cpu0[i] if cpu1[i] >= cpu0[i] else float("nan")

    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http:
        await room.connect(http)
        poster = asyncio.ensure_future(room.post())
        try:
            await asyncio.sleep(3)  # warm-up: the first messages compile the statements
            for _ in range(args.live_repeat):
                room.phase, began, cpu0 = "no build", time.monotonic(), cpu()
                await asyncio.sleep(args.live_seconds)
                add("no build", began, cpu0)
                await loop.run_in_executor(None, watch.mark)
                room.phase, began, cpu0 = "report build", time.monotonic(), cpu()
                request = loop.run_in_executor(None, ask_for_report, organiser, base, info["event_id"],
                                               args.live_format)
                state = None
                while time.monotonic() - began < args.report_timeout:
                    state = await loop.run_in_executor(None, watch.state)
                    if state and state["status"] in ("done", "failed"):
                        break
                    await asyncio.sleep(0.1)
                else:
                    state = dict(state or {"status": "not seen"}, gave_up=args.report_timeout)
                add("report build", began, cpu0)
                room.phase = "recovering"  # counted in neither phase
                reports.append(state)
                requests.append(await asyncio.wait_for(request, REPORT_TIMEOUT))
                recovery.append(await room.settle(60.0))
                await asyncio.sleep(1)
            await asyncio.sleep(2)
        finally:
            room.stopping = True
            poster.cancel()
        await asyncio.wait_for(asyncio.gather(*room.in_flight, return_exceptions=True), ACK_TIMEOUT)
        deadline = time.monotonic() + 15  # the last deliveries
        while time.monotonic() < deadline and any(len(room.received.get(s, ())) < len(room.connections)
                                                  for s in room.sent):
            await asyncio.sleep(0.2)
        await room.close()
    for name, figures in phases.items():
        figures.update(room.figures(name))
    return {**phases, "reports": reports, "requests": requests, "recovery": recovery, "clients": len(room.connections),
            "disconnected": room.disconnected, "errors": room.errors}


def exception_lines(*logs: Path) -> Counter:
    """The last line of each traceback in these logs (the exception), counted."""
    import re

    found: Counter = Counter()
    pattern = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception)\b.*")
    for log in logs:
        try:
            text = log.read_text(errors="replace")
        except OSError:
            continue
        found.update(line[:160] for line in text.splitlines() if pattern.match(line))
    return found


def live_variant(args, info: dict, tmp: Path, name: str, redis_url: str | None) -> dict:
    run_id = f"{int(time.time())}-{secrets.token_hex(3)}"
    port = free_port()
    logdir = tmp / f"live-{'redis' if redis_url else 'embedded'}"
    logdir.mkdir(exist_ok=True)
    env = dict(os.environ, DATABASE_URL=info["url"], SECRET_KEY=secrets.token_urlsafe(32),
               PLENARY_ENV="development", RATELIMIT_ENABLED="false", REPORTS_DIR=str(logdir / "reports"),
               SOCKETIO_ALLOWED_ORIGINS=f"http://127.0.0.1:{port}", SOCKETIO_CHANNEL=f"plenary-bench-{run_id}",
               JOBS_KEY_PREFIX=f"plenary-bench-{run_id}:jobs:")
    env.pop("REDIS_URL", None)
    if redis_url:
        env["REDIS_URL"] = redis_url
    server = worker = watch = None
    try:
        server = DeployedServer("plenary", port, env, logdir)
        server.wait_ready("/login")
        if redis_url:
            worker = Worker(env, logdir, nice=args.worker_nice)
            worker.wait_ready(redis_url, env["JOBS_KEY_PREFIX"] + "queue")
        base = f"http://127.0.0.1:{port}"
        cookies = [login(base, email) for email in info["live"][:args.clients]]
        organiser = organiser_session(base, info["organiser"])
        watch = ReportWatch(info["url"])
        result = asyncio.run(_live_session(args, info, base, cookies, organiser, watch, run_id,
                                           process_tree(server.pid), worker.proc.pid if worker else None))
    except Exception as error:
        tail = server.tail() if server else ""
        raise RuntimeError(f"{name}: {type(error).__name__}: {error}\n--- server log:\n{tail}") from error
    finally:
        if watch:
            watch.close()
        if worker:
            worker.stop()
        if server:
            server.stop()
        if redis_url:
            forget_redis_keys(redis_url, run_id)
    result["name"] = name
    result["exceptions"] = exception_lines(server.log, *([worker.log] if worker else []))
    return result


def _built(report: dict | None) -> str:
    if not report:
        return "not seen"
    took = ""
    if report.get("started_at") and report.get("finished_at"):
        took = f" in {(report['finished_at'] - report['started_at']).total_seconds():.1f} s"
    size = f", {report['size'] / 1024:.0f} kB" if report.get("size") else ""
    gave_up = f" (still, {report['gave_up']:g} s after it was asked for)" if report.get("gave_up") else ""
    return f"{report['status']}{took}{size}{gave_up}"


def part_live(args, info: dict, tmp: Path) -> list[dict]:
    print(f"\nlive: {args.clients} signed-in participants in \"{info['live_room_title']}\" "
          f"(room:{info['live_room_id']}), {args.writers} of them posting {args.rate:g} messages/s in all (open "
          f"loop); {args.live_repeat}x: {args.live_seconds:g} s without a report, then the organiser asks for "
          f"the event's {args.live_format} report ({info['posts']:,} posts) through POST "
          f"/exports/event/{info['event_id']}/reports and the phase lasts until it is built (or failed)", flush=True)
    results = []
    variants = []
    if not args.no_redis:
        why = redis_reachable(args.redis)
        if why:
            print(f"  Redis at {args.redis} does not answer ({why}): the worker variant is skipped")
        else:
            variants.append(("worker (Redis)", args.redis))
    if not args.no_embedded:
        variants.append(("embedded (no Redis)", None))
    for name, redis_url in variants:
        print(f"  {name}{f' (worker under nice -n {args.worker_nice})' if redis_url and args.worker_nice else ''}"
              " ...", flush=True)
        results.append(live_variant(args, info, tmp, name, redis_url))
    print(f"\n{'variant':<22} {'phase':<14} {'secs':>6} {'msgs':>5} {'deliv.':>7} {'p50 ms':>8} {'p95 ms':>8} "
          f"{'max ms':>8} {'lost':>5} {'unacked':>7} {'server CPU s':>12} {'worker CPU s':>12}")
    for r in results:
        for phase in ("no build", "report build"):
            f = r[phase]
            print(f"{r['name']:<22} {phase:<14} {f['seconds']:>6.1f} {f['messages']:>5} {f['deliveries']:>7} "
                  f"{f['p50']:>8.1f} {f['p95']:>8.1f} {f['max']:>8.1f} {f['lost']:>5} {f['unacked']:>7} "
                  f"{f['server_cpu']:>12.2f} {f['worker_cpu']:>12.2f}")
        a, b = r["no build"], r["report build"]
        verdict = "PASS" if b["p95"] <= a["p95"] * LIVE_P95_RATIO_MAX and not b["lost"] and not b["unacked"] else "FAIL"
        requests = ", ".join(f"{q['status']} in {q['seconds']:.1f} s" for q in r["requests"])
        print(f"{'':<22} p95 {b['p95'] / a['p95']:.2f}x, max {b['max'] / a['max']:.2f}x without a report "
              f"(goal: p95 unchanged, here <= {LIVE_P95_RATIO_MAX:g}x: {verdict}); reports: "
              f"{'; '.join(_built(x) for x in r['reports'])}; the POST answered {requests}; "
              f"then every message sent so far delivered after {', '.join(f'{t:.1f}' for t in r['recovery'])} s "
              f"(not counted); {r['disconnected']} of {r['clients']} sockets closed"
              + (f"; client errors {dict(r['errors'])}" if r["errors"] else ""))
        for line, count in r.get("exceptions", Counter()).most_common(3):
            print(f"{'':<22} logged {count}x: {line}")
    return results


# --- Main --------------------------------------------------------------------------------------

def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default=DEFAULT_SIZES, help=f"posts per event (default {DEFAULT_SIZES})")
    parser.add_argument("--formats", default=",".join(FORMATS), help="report formats to build (default md,docx,pdf)")
    parser.add_argument("--database-url", help="a PostgreSQL URL: the script makes (and drops) <its name>_<size>; "
                                               "default a temporary SQLite file per size")
    parser.add_argument("--repeat", type=int, default=1,
                        help="builds of each size and format, each in a fresh process; the table shows the "
                             "median run (default 1)")
    parser.add_argument("--no-builds", action="store_true", help="skip part 1's table (the largest event is "
                                                                 "still made, for --live and --profile)")
    parser.add_argument("--no-live", action="store_true", help="skip part 2 (the busy room)")
    parser.add_argument("--live-seconds", type=float, default=15.0,
                        help="each phase without a report (default 15)")
    parser.add_argument("--live-repeat", type=int, default=2,
                        help="how many times the two phases alternate, one report each time (default 2)")
    parser.add_argument("--clients", type=int, default=40, help="participants connected to the room (default 40)")
    parser.add_argument("--writers", type=int, default=6, help="how many of them post (default 6)")
    parser.add_argument("--rate", type=float, default=4.0, help="messages per second in all (default 4)")
    parser.add_argument("--report-timeout", type=float, default=120.0,
                        help="how long a live phase waits for its report to be done or failed (default 120 s)")
    parser.add_argument("--live-format", default="pdf", choices=FORMATS, help="the report asked for (default pdf)")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0", help="Redis for the worker variant")
    parser.add_argument("--worker-nice", type=int, default=0,
                        help="run the worker under `nice -n N` (default 0: the same priority as the server)")
    parser.add_argument("--no-redis", action="store_true", help="skip the worker (Redis) variant")
    parser.add_argument("--no-embedded", action="store_true", help="skip the embedded (no Redis) variant")
    parser.add_argument("--profile", action="store_true", help="py-spy the largest size's build")
    parser.add_argument("--profile-format", default="pdf", choices=FORMATS)
    parser.add_argument("--profile-out", help="the speedscope file (default /tmp/report-<N>k-<format>.speedscope.json)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory and databases")
    parser.add_argument("--child-build", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child_build is None:
        args.sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
        args.formats = [f.strip() for f in args.formats.split(",") if f.strip()]
        unknown = set(args.formats) - set(FORMATS)
        if unknown:
            parser.error(f"unknown formats: {', '.join(sorted(unknown))}")
        if not 1 <= args.writers <= args.clients:
            parser.error("--writers must be between 1 and --clients")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.child_build is not None:
        print(json.dumps(child_build(args.child_build or None)), flush=True)
        return 0
    tmp = Path(tempfile.mkdtemp(prefix="plenary-bench-reports-"))
    databases = Databases(args.database_url, tmp)
    print(f"code: {code_version()}; load average at the start: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores; "
          f"database: {databases.label()}", flush=True)
    status = 0
    try:
        if args.no_builds:
            args.sizes, args.formats = [max(args.sizes)], []
        rows, info = part_builds(args, databases, tmp)
        print_ratios(rows)
        if args.profile and info:
            profile_build(args, info, tmp)
        if not args.no_live and info:
            part_live(args, info, tmp)
        print(f"\nload average at the end: {os.getloadavg()[0]:.2f}")
    except Exception as error:
        print(f"\nbench failed: {type(error).__name__}: {error}", file=sys.stderr)
        args.keep, status = True, 1
    finally:
        if args.keep:
            print(f"kept: {tmp}" + (f" and the databases {', '.join(databases.made)}" if args.database_url else ""))
        else:
            for url in list(databases.made):
                try:
                    databases.drop(url)
                except Exception as error:  # noqa: BLE001
                    print(f"could not drop {url}: {error}", file=sys.stderr)
            shutil.rmtree(tmp, ignore_errors=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
