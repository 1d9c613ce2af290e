"""Polls in exports: a section per poll in the report (Markdown, HTML, PDF), `polls` in the
JSON export, the votes file; who sees which results; and an anonymous poll gives away no voter
in any format. Polls and votes are made directly with the models (the polls service has its
own tests); the figures are computed by hand in the comments."""
from __future__ import annotations

import csv
import io
import json
import re
import shutil
import subprocess
from types import SimpleNamespace

import pytest

from forum.exports import data
from forum.exports import polls as poll_exports
from forum.exports import report as reports
from forum.exports.scope import resolve
from forum.extensions import db as _db
from forum.models.polls import Poll, PollKind, PollOption, PollStatus, PollVote, ResultsShown
from tests.factories import login

SECRET_NAMES = ("Sigrid Secretvoter", "Tomas Hushvoter", "Ursula Quietvoter")
SECRET_ORGANISATION = "Covert Cooperative"

HIDDEN = "Not shown: fewer than 5 voters, or hidden with smaller groups so that none can be worked out."


def make_poll(owner, question, kind, options, *, consultation=None, topic=None, room=None, position=0,
              status="open", results_shown="after_close", **settings):
    poll = Poll(consultation=consultation, topic=topic, room=room, position=position, kind=PollKind(kind),
                question=question, status=PollStatus(status), results_shown=ResultsShown(results_shown),
                created_by=owner, **settings)
    poll.options = [PollOption(position=i, label=label) for i, label in enumerate(options, start=1)]
    _db.session.add(poll)
    _db.session.flush()
    return poll


def vote(poll, user, choice):
    """`choice` with option labels in place of ids, as PollVote.choice stores it."""
    ids = {option.label: option.id for option in poll.options}
    if isinstance(choice, dict):
        stored = {str(ids[label]): value for label, value in choice.items()}
    else:
        stored = [ids[label] for label in choice]
    _db.session.add(PollVote(poll_id=poll.id, user_id=user.id, choice=stored, country=user.country,
                             organisation_type=user.organisation_type))


@pytest.fixture
def setup(db, make_user, make_consultation):
    owner = make_user("organiser", display_name="Olga Organiser")
    host = make_user(display_name="Hugo Host")
    consultation = make_consultation(owner, topics=2, title="Labour market", hosts=[host])
    first_topic, second_topic = consultation.topics
    germans = [make_user(display_name=f"Dora German {i}", country="DE", organisation_type="ngo") for i in range(6)]
    italians = [make_user(display_name=f"Italo Italian {i}", country="IT", organisation_type="private_company")
                for i in range(5)]
    french = make_user(display_name="Fanny French", country="FR", organisation_type="ngo")
    named = germans + italians + [french]
    secret = [make_user(display_name=name, country="LU", organisation=SECRET_ORGANISATION,
                        organisation_type="research", email=f"secret{i}@example.org")
              for i, name in enumerate(SECRET_NAMES)]

    # Single choice, closed: Training 4, Wages 5, Housing 3 of 12 voters.
    single = make_poll(owner, "Which measure first?", "single", ["Training", "Wages", "Housing"],
                       consultation=consultation, topic=first_topic, position=1, status="closed")
    for user, choice in zip(named, ["Training"] * 4 + ["Wages"] * 2 + ["Wages"] * 3 + ["Housing"] * 2
                            + ["Housing"], strict=True):
        vote(single, user, [choice])
    # Score, anonymous, live: Apprenticeships 5, 4, 3 (mean 4); Tax credits 2, 4 (mean 3).
    score = make_poll(owner, "How useful is each?", "score", ["Apprenticeships", "Tax credits"],
                      consultation=consultation, position=2, results_shown="live", anonymous=True,
                      scale_min=1, scale_max=5, scale_labels={"1": "Not at all", "5": "Fully"})
    for user, choice in zip(secret, [{"Apprenticeships": 5, "Tax credits": 2}, {"Apprenticeships": 4},
                                     {"Apprenticeships": 3, "Tax credits": 4}], strict=True):
        vote(score, user, choice)
    # Ranked, open, results after voting: 4 x [A], 3 x [B], 2 x [C]. Round 1: A4 B3 C2 of 9,
    # C goes; round 2: A4 B3, 2 exhausted: A wins 4 of 7. Borda (n = 3): A 8, B 6, C 4.
    ranked = make_poll(owner, "Rank the options", "ranked", ["Alpha", "Beta", "Gamma"],
                       consultation=consultation, topic=second_topic, position=3, results_shown="after_vote")
    for user, choice in zip(named, [["Alpha"]] * 4 + [["Beta"]] * 3 + [["Gamma"]] * 2, strict=False):
        vote(ranked, user, choice)
    # Dots, closed, breakdown published: Training 6 + 10 = 16, Wages 4 of 20 points.
    dots = make_poll(owner, "Spread your points", "dots", ["Training", "Wages"], consultation=consultation,
                     position=4, status="closed", points=10, breakdown_published=True)
    vote(dots, germans[0], {"Training": 6, "Wages": 4})
    vote(dots, italians[0], {"Training": 10})
    # Multiple, open, results after close: only its managers see them before.
    multiple = make_poll(owner, "Which apply to you?", "multiple", ["Employer", "Trainer"],
                         consultation=consultation, position=5, max_choices=2)
    vote(multiple, germans[0], ["Employer", "Trainer"])
    vote(multiple, germans[1], ["Trainer"])
    draft = make_poll(owner, "A draft nobody sees", "single", ["Yes", "No"], consultation=consultation,
                      position=6, status="draft")
    _db.session.flush()
    return SimpleNamespace(owner=owner, host=host, consultation=consultation, named=named, secret=secret,
                           germans=germans, italians=italians, single=single, score=score, ranked=ranked,
                           dots=dots, multiple=multiple, draft=draft)


def organiser_scope(s):
    return resolve(s.owner, "consultation", s.consultation.id)


def markdown_of(scope):
    return reports.render_markdown(reports.build_report(scope))


def html_of(scope):
    return str(reports.render_html(reports.build_report(scope), standalone=True))


def json_of(scope):
    return json.loads("".join(data.json_chunks(scope)))


def votes_of(scope):
    text = "".join(poll_exports.vote_csv_chunks(scope))
    return text, list(csv.DictReader(io.StringIO(text, newline="")))


def section(markdown: str, question: str) -> str:
    """The Markdown of one poll: from its heading to the next poll's (or the moderation part)."""
    start = markdown.index(f"### {question}")
    ends = [i for i in (markdown.find("\n### ", start + 1), markdown.find("\n## ", start + 1)) if i != -1]
    return markdown[start:min(ends)]


# --- The report ------------------------------------------------------------------------------

def test_markdown_report_has_a_section_per_poll_with_its_figures(setup):
    markdown = markdown_of(organiser_scope(setup))
    assert "## Polls" in markdown
    assert "A draft nobody sees" not in markdown
    questions = re.findall(r"^### (.+)$", markdown[markdown.index("## Polls"):], flags=re.M)
    assert questions == ["Which measure first?", "How useful is each?", "Rank the options", "Spread your points",
                         "Which apply to you?"]

    single = section(markdown, "Which measure first?")
    assert "Topic 1: Topic 1 of consultation" in single and "Single choice" in single
    assert "- 12 voters." in single
    assert "| Training | 4 | 33% |" in single
    assert "| Wages | 5 | 42% |" in single
    assert "| Housing | 3 | 25% |" in single
    # The text chart: the longest bar for the most votes.
    chart = re.search(r"```text\n(.*?)```", single, flags=re.S).group(1)
    assert "Wages     " + "█" * poll_exports.BAR_CHARS + "  5 (42%)" in chart
    assert "Housing   " + "█" * 14 + " " * 10 + "  3 (25%)" in chart  # 3/5 of 24, rounded
    # Breakdown by country: DE 6 (Training 4, Wages 2); FR's 1 voter hidden, and IT (5) with it.
    assert "| DE | 6 | 67% | 33% | 0% |" not in single  # countries are named
    assert "| Germany | 6 | 67% | 33% | 0% |" in single
    # Hidden groups say neither their figures nor their number of voters, and come last.
    assert f"| France | {HIDDEN} |  |  |  |" in single
    assert f"| Italy | {HIDDEN} |  |  |  |" in single
    assert single.index("| Germany | 6 |") < single.index("| France |") < single.index("| Italy |")
    assert "| Italy | 5 |" not in single and "| France | 1 |" not in single
    # By type: NGO 7 (DE 6 + FR 1): Training 4, Wages 2, Housing 1; business 5: Wages 3, Housing 2.
    assert "| NGO | 7 | 57% | 29% | 14% |" in single
    assert "| Private company | 5 | 0% | 60% | 40% |" in single

    score = section(markdown, "How useful is each?")
    assert "\n\nScore\n\n" in score  # consultation-wide: no place named, only the kind
    assert "Scale: 1 = Not at all; 5 = Fully." in score
    assert "| Option | Ratings | Mean | 1 (Not at all) | 2 | 3 | 4 | 5 (Fully) |" in score
    assert "| Apprenticeships | 3 | 4.0 | 0 | 0 | 1 | 1 | 1 |" in score
    assert "| Tax credits | 2 | 3.0 | 0 | 1 | 0 | 1 | 0 |" in score
    assert f"| Luxembourg | {HIDDEN} |  |  |" in score

    ranked = section(markdown, "Rank the options")
    assert "| Alpha | 8 | 4 |" in ranked and "| Beta | 6 | 3 |" in ranked and "| Gamma | 4 | 2 |" in ranked
    assert "| Option | Round 1 | Round 2 |" in ranked
    assert "| Alpha | 4 | 4, elected |" in ranked
    assert "| Gamma | 2, eliminated |  |" in ranked
    assert "| Exhausted ballots | 0 | 2 |" in ranked
    assert "Instant-runoff winner: Alpha, with a majority of the ballots still in the count in round 2." in ranked

    dots = section(markdown, "Spread your points")
    assert "| Training | 16 | 80% |" in dots and "| Wages | 4 | 20% |" in dots
    assert "20 points given in all." in dots


def test_html_report_draws_each_poll_with_a_table_of_the_same_figures(setup):
    html = html_of(organiser_scope(setup))
    polls_part = html[html.index('id="report-polls"'):html.index('id="report-moderation"')]
    assert polls_part.count("<svg") == 5 and polls_part.count('<figure class="chart-figure">') == 5
    figure = re.search(rf'<section class="report-poll" aria-labelledby="report-poll-{setup.single.id}">(.*?)'
                       r"</section>", polls_part, flags=re.S).group(1)
    assert f'<title id="chart-poll-{setup.single.id}-title">Votes per option</title>' in figure
    assert re.search(r'<th scope="row">Wages</th><td class="num">5</td><td class="num">42%</td>', figure)
    # The longest bar is the most votes' (Wages, 5): 270 units wide, Training's 4/5 of it.
    assert '<rect x="240" y="31" width="270.0"' in figure and '<rect x="240" y="7" width="216.0"' in figure
    assert ('<tr class="withheld"><th scope="row">France</th>'
            f'<td colspan="4">{HIDDEN}</td></tr>') in figure


def test_pdf_report_holds_the_polls(setup, tmp_path):
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext not found (apt-get install -y poppler-utils)")
    path = tmp_path / "report.pdf"
    path.write_bytes(reports.render_pdf(reports.build_report(organiser_scope(setup))))
    text = " ".join(subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                                   check=True).stdout.split())
    for words in ("Polls", "Which measure first?", "Instant-runoff winner: Alpha", "Round 2",
                  "Not shown: fewer than 5 voters,", "20 points given in all."):
        assert words in text


def test_results_not_yet_shown_to_a_reader_stay_out(setup):
    # A host may export the consultation but does not manage its polls: the open poll whose
    # results come after close is withheld, and breakdowns only where published.
    markdown = markdown_of(resolve(setup.host, "consultation", setup.consultation.id))
    multiple = section(markdown, "Which apply to you?")
    assert "Its results are shown when the poll closes." in multiple
    assert "Employer" not in multiple and "voters." not in multiple
    assert "| Wages | 5 | 42% |" in section(markdown, "Which measure first?")  # closed: shown
    assert "Breakdown" not in section(markdown, "Which measure first?")  # not published
    assert "| Germany | Not shown" in section(markdown, "Spread your points")  # published
    assert "Its results are shown to those who voted" in section(markdown, "Rank the options")


def test_a_reader_who_voted_sees_after_vote_results(setup, make_user):
    vote(setup.ranked, setup.host, ["Beta"])
    markdown = markdown_of(resolve(setup.host, "consultation", setup.consultation.id))
    assert "| Beta | 8 | 4 |" in section(markdown, "Rank the options")  # 6 + 2 Borda points, 4 first


def test_the_public_summary_shows_what_every_reader_sees(setup):
    public = resolve(None, "consultation", setup.consultation.id, public=True)
    markdown = markdown_of(public)
    assert "Its results are shown to those who voted" in section(markdown, "Rank the options")
    assert "Its results are shown when the poll closes." in section(markdown, "Which apply to you?")
    assert "| Apprenticeships | 3 | 4.0 |" in section(markdown, "How useful is each?")  # live
    assert "Breakdown" not in section(markdown, "How useful is each?")
    assert "Breakdown" in section(markdown, "Spread your points")
    # The organiser reading the public summary sees the same, not the managers' view.
    assert markdown_of(resolve(setup.owner, "consultation", setup.consultation.id, public=True)) == markdown


# --- JSON ------------------------------------------------------------------------------------

def test_json_export_has_the_polls_with_settings_results_and_breakdowns(setup):
    document = json_of(organiser_scope(setup))
    polls = document["polls"]
    assert [p["question"] for p in polls] == ["Which measure first?", "How useful is each?", "Rank the options",
                                              "Spread your points", "Which apply to you?"]
    single = polls[0]
    ids = [o["id"] for o in single["options"]]
    assert (single["kind"], single["status"], single["place_kind"], single["place_id"]) == (
        "single", "closed", "topic", setup.consultation.topics[0].id)
    assert [o["label"] for o in single["options"]] == ["Training", "Wages", "Housing"]
    assert single["settings"]["anonymous"] is False and single["settings"]["results_shown"] == "after_close"
    assert single["results"]["voters"] == 12
    assert [(o["id"], o["votes"]) for o in single["results"]["options"]] == list(zip(ids, [4, 5, 3], strict=True))
    countries = single["breakdowns"]["country"]
    assert [(g["code"], g["label"], g["voters"], g["suppressed"]) for g in countries["groups"]] == [
        ("DE", "Germany", 6, False), ("FR", "France", None, True), ("IT", "Italy", None, True)]
    assert countries["groups"][1]["results"] is None and countries["suppressed_voters"] == 6

    score = polls[1]
    assert score["place_kind"] == "consultation" and score["settings"]["scale_labels"] == {"1": "Not at all",
                                                                                          "5": "Fully"}
    assert [(o["ratings"], o["mean"]) for o in score["results"]["options"]] == [(3, 4.0), (2, 3.0)]
    ranked = polls[2]["results"]
    alpha = polls[2]["options"][0]["id"]
    assert ranked["winner"] == alpha and len(ranked["rounds"]) == 2 and ranked["rounds"][1]["exhausted"] == 2
    assert polls[3]["results"]["points_given"] == 20


def test_json_withholds_what_the_exporter_may_not_see(setup):
    polls = {p["question"]: p for p in json_of(resolve(setup.host, "consultation", setup.consultation.id))["polls"]}
    assert polls["Which apply to you?"]["results"] is None and polls["Which apply to you?"]["breakdowns"] is None
    assert polls["Which measure first?"]["results"]["voters"] == 12
    assert polls["Which measure first?"]["breakdowns"] is None
    assert polls["Spread your points"]["breakdowns"]["country"]["groups"][0]["suppressed"] is True


# --- The votes file --------------------------------------------------------------------------

def test_votes_file_has_a_row_per_vote(setup, make_post):
    make_post(setup.italians[0], consultation=setup.consultation, body="I wrote first, so I am author 1.")
    text, rows = votes_of(organiser_scope(setup))
    assert text.startswith(",".join(poll_exports.VOTE_COLUMNS) + "\r\n")
    by_poll = {}
    for row in rows:
        by_poll.setdefault(int(row["poll_id"]), []).append(row)
    assert {poll_id: len(r) for poll_id, r in by_poll.items()} == {
        setup.single.id: 12, setup.score.id: 3, setup.ranked.id: 9, setup.dots.id: 2, setup.multiple.id: 2}
    first = by_poll[setup.single.id][0]
    assert (first["voter"], first["country"], first["organisation_type"], first["organisation_type_label"]) == (
        "Dora German 0", "DE", "ngo", "NGO")
    assert (first["choice"], first["choice_text"], first["anonymous"]) == (
        f"[{setup.single.options[0].id}]", "Training", "no")
    # A voter who posted keeps their author_ref; the others are numbered after the authors.
    italian = [r for r in by_poll[setup.single.id] if r["voter"] == "Italo Italian 0"][0]
    assert italian["voter_ref"] == "1" and first["voter_ref"] == "2"
    assert [r["choice_text"] for r in by_poll[setup.ranked.id]][:1] == ["1. Alpha"]
    assert by_poll[setup.dots.id][0]["choice_text"] == "Training: 6; Wages: 4"
    assert by_poll[setup.multiple.id][0]["choice_text"] == "Employer; Trainer"


def test_votes_file_names_people_as_they_chose(setup):
    setup.germans[0].named_in_reports = False
    setup.germans[0].organisation = "Hidden Society"
    _, rows = votes_of(organiser_scope(setup))
    row = [r for r in rows if r["poll_id"] == str(setup.single.id)][0]
    assert row["voter"] == "Participant (DE, NGO)" and row["organisation"] == ""
    assert "Dora German 0" not in json.dumps(rows) and "Hidden Society" not in json.dumps(rows)


def test_votes_file_only_for_polls_the_exporter_manages(setup):
    text, rows = votes_of(resolve(setup.host, "consultation", setup.consultation.id))
    assert rows == [] and text == ",".join(poll_exports.VOTE_COLUMNS) + "\r\n"


def test_votes_file_guards_against_formulas(setup):
    setup.single.options[0].label = "=HYPERLINK(\"x\")"
    _, rows = votes_of(organiser_scope(setup))
    assert rows[0]["choice_text"] == "'=HYPERLINK(\"x\")"


# --- Anonymous polls -------------------------------------------------------------------------

def test_an_anonymous_poll_gives_away_no_voter_in_any_format(setup, tmp_path):
    scope = organiser_scope(setup)
    _, rows = votes_of(scope)
    anonymous = [r for r in rows if r["poll_id"] == str(setup.score.id)]
    assert len(anonymous) == 3
    for row in anonymous:
        assert all(row[column] == "" for column in poll_exports.VOTER_COLUMNS)
        assert row["anonymous"] == "yes"
    # Sorted by ballot, not in the order people voted (5 and 2, 4, then 3 and 4).
    assert [r["choice"] for r in anonymous] == sorted(r["choice"] for r in anonymous)
    assert [r["choice_text"] for r in anonymous] == [
        "Apprenticeships: 3; Tax credits: 4", "Apprenticeships: 4", "Apprenticeships: 5; Tax credits: 2"]
    texts = {
        "votes": "".join(poll_exports.vote_csv_chunks(scope)),
        "json": "".join(data.json_chunks(scope)),
        "csv": "".join(data.csv_chunks(scope)),
        "md": markdown_of(scope),
        "html": html_of(scope),
    }
    for name, text in texts.items():
        for secret in SECRET_NAMES + (SECRET_ORGANISATION, "secret0@example.org"):
            assert secret not in text, (name, secret)
    anonymous_json = [p for p in json.loads(texts["json"])["polls"] if p["id"] == setup.score.id][0]
    assert "user" not in json.dumps(anonymous_json) and "voter_ref" not in json.dumps(anonymous_json)


# --- Places ----------------------------------------------------------------------------------

def test_a_topic_export_has_its_topic_polls_only(setup):
    topic = setup.consultation.topics[1]
    polls = json_of(resolve(setup.owner, "topic", topic.id))["polls"]
    assert [p["question"] for p in polls] == ["Rank the options"]
    thread_polls = poll_exports.scope_polls(SimpleNamespace(thread=object()))
    assert thread_polls == []


def test_event_and_room_exports_have_their_rooms_polls(db, make_event):
    event = make_event(rooms=2)
    plenary, first, second = event.rooms
    make_poll(event.owner, "Plenary question", "single", ["Yes", "No"], room=plenary, status="closed")
    in_first = make_poll(event.owner, "First room question", "single", ["Yes", "No"], room=first)
    make_poll(event.owner, "Second room question", "single", ["Yes", "No"], room=second)
    moderator = event.test_moderators[1][0]
    vote(in_first, moderator, ["Yes"])

    polls = json_of(resolve(event.owner, "event", event.id))["polls"]
    assert [p["question"] for p in polls] == ["Plenary question", "First room question", "Second room question"]
    assert polls[1]["place_kind"] == "room" and polls[1]["place_title"] == first.title
    # A co-moderator manages their room's polls: results, breakdowns and votes.
    room_scope = resolve(moderator, "room", first.id)
    [room_poll] = json_of(room_scope)["polls"]
    assert room_poll["results"]["voters"] == 1 and room_poll["breakdowns"] is not None
    _, rows = votes_of(room_scope)
    assert [(r["poll_id"], r["choice_text"]) for r in rows] == [(str(in_first.id), "Yes")]
    assert "## Polls" in markdown_of(room_scope) and "Second room question" not in markdown_of(room_scope)


def test_no_polls_no_section(db, make_consultation):
    consultation = make_consultation()
    scope = resolve(consultation.owner, "consultation", consultation.id)
    assert "Polls" not in markdown_of(scope) and 'id="report-polls"' not in html_of(scope)
    assert json_of(scope)["polls"] == []


# --- Over HTTP and the command line ----------------------------------------------------------

def test_the_votes_file_downloads_for_the_organiser_only(app, setup, make_user):
    base = f"/exports/consultation/{setup.consultation.id}"
    organiser = app.test_client()
    login(organiser, setup.owner)
    assert f'href="{base}.votes.csv"' in organiser.get(base).get_data(as_text=True)
    response = organiser.get(f"{base}.votes.csv?bom=1")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="plenary-consultation-{setup.consultation.id}-labour-market.votes.csv"')
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeffpoll_id,")
    assert len(list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"), newline="")))) == 12 + 3 + 9 + 2 + 2
    participant = app.test_client()
    login(participant, setup.germans[0])
    assert participant.get(f"{base}.votes.csv").status_code == 404


def test_the_command_line_writes_the_votes_file(app, setup, tmp_path):
    output = tmp_path / "votes.csv"
    result = app.test_cli_runner().invoke(args=["export", "consultation", str(setup.consultation.id),
                                                "--format", "votes.csv", "-o", str(output)])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(output.read_bytes().decode(), newline="")))
    assert len(rows) == 28 and {r["poll_question"] for r in rows} >= {"Which measure first?"}
