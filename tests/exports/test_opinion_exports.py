"""The opinion map in the exports (forum/exports/opinion.py): the report's section (Markdown,
HTML with the map as SVG, PDF), the JSON export's `opinion_map`, and the statements CSV. The
board is built with the models, its votes placed by two planted groups, and the map computed
by forum/services/opinion_map.py as the board feature does."""
from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime, timezone

import pytest
from flask_babel import force_locale

from forum.exports import data, opinion
from forum.exports import report as reports
from forum.exports.scope import resolve
from forum.models.opinion import BoardStatus, OpinionBoard, Statement, StatementStatus, StatementVote
from forum.services.opinion_map import compute
from tests.factories import login

AGREE, DISAGREE, PASS = 1, -1, 0
CONSENSUS = "Newcomers should get language courses in their first month."
SPLIT = "Employers should pay for the language courses."
ONLY_A = "Housing comes before work."
ONLY_B = "Work comes before housing."
HIDDEN = "Blorptastic statement that was hidden after the map was computed."
PENDING = "Quibbleflux statement waiting for a moderator."
FORMULA = "=1+1 is what some call a formula"
COMPUTED_AT = datetime(2026, 3, 2, 14, 30, tzinfo=timezone.utc)


def stances() -> list[tuple[str, int, int]]:
    """(text, stance of group A, stance of group B) of the published statements."""
    rows = [(CONSENSUS, AGREE, AGREE), (SPLIT, AGREE, DISAGREE), (ONLY_A, AGREE, DISAGREE),
            (ONLY_B, DISAGREE, AGREE), (FORMULA, PASS, PASS)]
    rows += [(f"Statement number {i} on the labour market.", AGREE if i % 2 else DISAGREE,
              DISAGREE if i % 3 else AGREE) for i in range(7)]
    return rows


@pytest.fixture
def board(db, make_user, make_consultation):
    """An open board: 24 people in group A (Italian NGOs), 16 in group B (13 German and 3
    French researchers), 12 published statements voted on by all, a statement hidden after
    the map was computed and a pending one; the map computed from the votes."""
    owner = make_user("organiser", display_name="Olga Organiser")
    consultation = make_consultation(owner, title="Labour market integration")
    board = OpinionBoard(consultation_id=consultation.id, prompt="What should the fund pay for?",
                         status=BoardStatus.OPEN, premoderated=True, created_by_id=owner.id)
    db.session.add(board)
    db.session.flush()
    people = [(make_user(country="IT", organisation_type="ngo"), 0) for _ in range(24)]
    people += [(make_user(country="DE" if i < 13 else "FR", organisation_type="research"), 1) for i in range(16)]
    statements = []
    for text, a, b in stances() + [(HIDDEN, AGREE, AGREE)]:
        statement = Statement(board_id=board.id, author_id=owner.id, text=text, seed=True,
                              status=StatementStatus.PUBLISHED)
        statements.append((statement, (a, b)))
        db.session.add(statement)
    pending = Statement(board_id=board.id, author_id=people[0][0].id, text=PENDING, status=StatementStatus.PENDING)
    db.session.add(pending)
    db.session.flush()
    votes = []
    for n, (user, group) in enumerate(people):
        for m, (statement, stance) in enumerate(statements):
            value = stance[group]
            if (n + m) % 9 == 0:  # a little noise
                value = PASS if value != PASS else AGREE
            votes.append((user.id, statement.id, value))
            db.session.add(StatementVote(board_id=board.id, statement_id=statement.id, user_id=user.id,
                                         value=value))
            counter = {AGREE: "agree_count", DISAGREE: "disagree_count", PASS: "pass_count"}[value]
            setattr(statement, counter, (getattr(statement, counter) or 0) + 1)
    board.map = compute(votes, {user.id: (user.country, user.organisation_type) for user, _g in people})
    board.map_computed_at, board.map_votes = COMPUTED_AT, len(votes)
    hidden = statements[-1][0]
    hidden.status = StatementStatus.HIDDEN  # the next computation would leave it out
    db.session.flush()
    board.people, board.owner, board.hidden, board.pending = people, owner, hidden, pending
    board.statement_ids = {s.text: s.id for s, _stance in statements}
    return board


def _report(board, **options):
    """The report of the board's consultation: (Report, Markdown, standalone HTML)."""
    with force_locale("en"):
        scope = resolve(board.owner, "consultation", board.consultation_id, **options)
        built = reports.build_report(scope)
        return built, reports.render_markdown(built), str(reports.render_html(built, standalone=True))


def test_the_map_holds_the_planted_groups(board):
    """(The fixture's premise: two groups, A the Italians, B the others.)"""
    found = board.map
    assert found["k"] == 2
    assert [g["size"] for g in found["groups"]] == [24, 16]
    assert found["groups"][0]["countries"] == {"IT": 24}
    # Stored pooled: a country with fewer than 5 of a group's people is not named.
    assert found["groups"][1]["countries"] == {"DE": 13} and found["groups"][1]["countries_pooled"] == 3


def test_markdown_section(board):
    built, markdown, _html = _report(board)
    section = built.opinion
    assert section is not None and [g.label for g in section.groups] == ["A", "B"]
    text = markdown[markdown.index("## Opinion map"):markdown.index("## Moderation")]
    assert "What should the fund pay for?" in text
    assert "40 participants voted often enough to be placed on the map, in 2 opinion groups" in text
    assert "Last computed: " in text
    assert "### Group A" in text and "### Group B" in text
    # Make-up: named when 5 or more of a group, pooled below.
    group_b = text[text.index("### Group B"):]
    assert "| Germany | 13 |" in group_b
    assert "France" not in text
    assert "| Others (fewer than 5 each) | 3 |" in group_b
    assert "| Research / academia | 16 |" in group_b
    # Representative: what sets each apart.
    group_a = text[text.index("### Group A"):text.index("### Group B")]
    assert ONLY_A in group_a and ONLY_B in group_a  # A agrees with the one, rejects the other
    assert "of the group agreed" in group_a
    # Consensus first; the split statement among the divisive ones, with both groups' shares.
    consensus = text[text.index("### Consensus"):]
    assert CONSENSUS in consensus.split("###")[1]
    assert SPLIT not in consensus.split("###")[1]
    divisive = text[text.index("### Divisive"):]
    row = next(line for line in divisive.splitlines() if SPLIT in line)
    a_share, b_share = (int(x) for x in re.findall(r"(\d+)%", row))
    assert a_share > 80 and b_share < 20
    # Not published: not shown.
    assert "Blorptastic" not in markdown and "Quibbleflux" not in markdown


def test_html_and_its_map(board):
    _built, _markdown, html = _report(board)
    assert '<section class="report-opinion"' in html
    svg = html[html.index('<svg xmlns="http://www.w3.org/2000/svg" class="chart opinion-map"'):]
    svg = svg[:svg.index("</svg>")]
    assert 'role="img"' in svg and "<title" in svg and "<desc" in svg
    # One marker per placed participant, plus one per group in the legend.
    markers = len(re.findall(r"<(circle|rect|polygon|path) ", svg)) - 1  # the frame is a <rect>
    assert markers == 40 + 2
    assert ">A</text>" in svg and ">B</text>" in svg
    # The same figures as a table.
    assert "<caption>Opinion groups</caption>" in html
    assert "Agree in group A" in html
    assert "Blorptastic" not in html and "Quibbleflux" not in html


def test_pdf_renders_the_section(board):
    pytest.importorskip("weasyprint")
    built, _markdown, _html = _report(board)
    with force_locale("en"):
        pdf = reports.render_pdf(built)
    assert pdf.startswith(b"%PDF")


def test_no_board_no_section(db, make_consultation):
    consultation = make_consultation()
    with force_locale("en"):
        scope = resolve(consultation.owner, "consultation", consultation.id)
        built = reports.build_report(scope)
        assert built.opinion is None
        assert "Opinion map" not in reports.render_markdown(built)
        assert json.loads("".join(data.json_chunks(scope)))["opinion_map"] is None


def test_a_topic_export_has_no_section(board):
    topic = board.consultation.topics[0]
    with force_locale("en"):
        assert reports.build_report(resolve(board.owner, "topic", topic.id)).opinion is None


def test_public_summary_shows_an_open_board_not_a_draft(db, board):
    built, markdown, _html = _report(board, public=True)
    assert built.opinion is not None and CONSENSUS in markdown
    board.status = BoardStatus.DRAFT
    db.session.flush()
    built, markdown, _html = _report(board, public=True)
    assert built.opinion is None and "Opinion map" not in markdown
    # The organiser's export still has it.
    assert _report(board)[0].opinion is not None


def test_a_board_without_a_map_yet(db, board):
    board.map = None
    db.session.flush()
    built, markdown, html = _report(board)
    assert "Too few votes yet for an opinion map." in markdown
    assert "Too few votes yet for an opinion map." in html


def test_json_opinion_map(board):
    with force_locale("en"):
        scope = resolve(board.owner, "consultation", board.consultation_id)
        document = json.loads("".join(data.json_chunks(scope)))
    found = document["opinion_map"]
    assert list(document).index("opinion_map") < list(document).index("posts")
    assert found["board"] == {"id": board.id, "prompt": "What should the fund pay for?", "status": "open",
                              "computed_at": "2026-03-02T14:30:00Z"}
    assert found["participants"] == 40 and found["k"] == 2
    assert [(g["label"], g["size"]) for g in found["groups"]] == [("A", 24), ("B", 16)]
    group_b = found["groups"][1]
    assert group_b["countries"] == {"DE": 13} and group_b["countries_pooled"] == 3
    assert group_b["organisation_types"] == {"research": 16} and group_b["organisation_types_pooled"] == 0
    texts = {r["text"] for g in found["groups"] for r in g["representative"]}
    assert ONLY_A in texts and ONLY_B in texts
    assert found["consensus"][0]["statement_id"] in (board.statement_ids[CONSENSUS], board.hidden.id)
    consensus = {c["statement_id"]: c for c in found["consensus"]}
    assert consensus[board.statement_ids[CONSENSUS]]["text"] == CONSENSUS
    assert set(consensus[board.statement_ids[CONSENSUS]]["agree_by_group"]) == {"0", "1"}
    # The hidden statement is still in this (older) map, without its text.
    assert consensus[board.hidden.id]["text"] is None
    assert "Blorptastic" not in json.dumps(document)
    divisive = {d["statement_id"]: d for d in found["divisive"]}
    assert divisive[board.statement_ids[SPLIT]]["text"] == SPLIT
    # No participant's position.
    assert "points" not in found and "separation" not in found


def _statement_rows(board, bom: bool = False) -> list[dict[str, str]]:
    scope = resolve(board.owner, "consultation", board.consultation_id)
    text = "".join(opinion.statements_csv_chunks(scope, bom=bom))
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"), newline="")))


def test_statements_csv(db, board):
    rows = _statement_rows(board)
    assert list(rows[0]) == list(opinion.STATEMENT_COLUMNS)
    assert len(rows) == len(stances()) + 2
    by_id = {int(r["statement_id"]): r for r in rows}
    for statement in db.session.scalars(db.select(Statement).where(Statement.board_id == board.id)):
        row = by_id[statement.id]
        assert row["status"] == statement.status.value
        assert (int(row["agree"]), int(row["disagree"]), int(row["pass"])) == (
            statement.agree_count, statement.disagree_count, statement.pass_count)
        assert int(row["votes"]) == sum(1 for v in db.session.scalars(
            db.select(StatementVote).where(StatementVote.statement_id == statement.id)))
    assert by_id[board.statement_ids[CONSENSUS]]["text"] == CONSENSUS
    assert by_id[board.hidden.id]["text"] == "" and by_id[board.hidden.id]["status"] == "hidden"
    assert by_id[board.pending.id]["text"] == "" and by_id[board.pending.id]["votes"] == "0"
    assert by_id[board.statement_ids[FORMULA]]["text"] == "'" + FORMULA  # no formula in a spreadsheet


def test_statements_csv_over_http(app, board, make_user):
    owner_client = app.test_client()
    login(owner_client, board.owner)
    url = f"/exports/consultation/{board.consultation_id}.statements.csv"
    response = owner_client.get(url)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].endswith('-labour-market-integration.statements.csv"')
    assert "no-store" in response.headers["Cache-Control"]
    assert CONSENSUS in response.get_data(as_text=True)
    assert owner_client.get(url + "?bom=1").get_data(as_text=True).startswith("\ufeff")
    assert "statements.csv" in owner_client.get(f"/exports/consultation/{board.consultation_id}").get_data(
        as_text=True)
    participant = app.test_client()
    login(participant, make_user())
    assert participant.get(url).status_code == 404
    assert app.test_client().get(url).status_code in (302, 401)


def test_statements_csv_404_without_a_board(app, make_consultation):
    consultation = make_consultation()
    client = app.test_client()
    login(client, consultation.owner)
    assert client.get(f"/exports/consultation/{consultation.id}.statements.csv").status_code == 404
    topic = consultation.topics[0]
    assert client.get(f"/exports/topic/{topic.id}.statements.csv").status_code == 404
    assert "statements.csv" not in client.get(f"/exports/consultation/{consultation.id}").get_data(as_text=True)



def test_statements_csv_from_the_command_line(app, board, tmp_path):
    out = tmp_path / "statements.csv"
    result = app.test_cli_runner().invoke(args=["export", "consultation", str(board.consultation_id),
                                                "--format", "statements.csv", "-o", str(out)])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"), newline="")))
    assert len(rows) == len(stances()) + 2
    assert CONSENSUS in {row["text"] for row in rows}


def test_a_map_stored_with_a_small_group_is_read_without_it(db, board):
    """A map computed before groups had at least 5 people: its group of 2 (and its make-up and
    agree shares) are shown nowhere; its people stay on the map, in no group."""
    import copy

    old = copy.deepcopy(board.map)
    old["groups"][1]["countries"] = {"DE": 13, "FR": 3}  # as stored then: not pooled
    del old["groups"][1]["countries_pooled"]
    old["groups"].append({"id": 2, "label": "C", "size": 2, "countries": {"MT": 2}, "organisation_types": {"ngo": 2},
                          "representative": old["groups"][0]["representative"][:1]})
    pair = [p["p"] for p in old["points"][:2]]
    for point in old["points"][:2]:
        point["group"] = 2
    for item in old["consensus"] + old["divisive"]:
        item["agree_by_group"]["2"] = 0.0
    board.map = old
    db.session.flush()
    with force_locale("en"):
        scope = resolve(board.owner, "consultation", board.consultation_id)
        found = json.loads("".join(data.json_chunks(scope)))["opinion_map"]
    assert [g["label"] for g in found["groups"]] == ["A", "B"]
    assert found["groups"][1]["countries"] == {"DE": 13} and found["groups"][1]["countries_pooled"] == 3
    assert all(set(item["agree_by_group"]) == {"0", "1"} for item in found["consensus"] + found["divisive"])
    _built, markdown, html = _report(board)
    assert "Group C" not in markdown and "Malta" not in markdown and "Group C" not in html
    from forum.services import opinion as service
    view = service.map_view(None, board)
    assert [g["label"] for g in view.groups] == ["A", "B"]
    assert {p["p"]: p["group"] for p in view.points if p["p"] in pair} == dict.fromkeys(pair)
