"""Stances in the exports: each response's stance in the CSV and JSON posts, a proposal's
counts per stance and stakeholder group in the JSON topics and in the report (Markdown,
HTML, PDF)."""
from __future__ import annotations

import csv
import io
import json
import re

import pytest
from flask_babel import force_locale

from forum.exports import data
from forum.exports import report as reports
from forum.exports.scope import resolve
from forum.services import consultations, moderation
from tests.exports.test_report import _pdftotext
from tests.web.page import parse


@pytest.fixture
def proposal(db, make_consultation, make_post, make_user):
    consultation = make_consultation(topics=2)
    topic = consultation.topics[1]
    consultations.update_topic(consultation.owner, topic, consultations.TopicInput(title="Ring-fence 10%",
                                                                                   is_proposal=True))
    at = {"topic": topic, "consultation": consultation}
    topic.test_posts = {
        "it_yes": make_post(make_user(country="IT", organisation_type="ngo"), stance="in_favour", **at),
        "be_yes": make_post(make_user(country="BE", organisation_type="ngo"), stance="in_favour", **at),
        "be_no": make_post(make_user(country="BE", organisation_type="trade_union"), stance="against", **at),
        "hidden": make_post(make_user(country="FR", organisation_type="employers"), stance="neutral", **at),
        "other": make_post(topic=consultation.topics[0], consultation=consultation),
    }
    topic.test_posts["reply"] = make_post(parent=topic.test_posts["it_yes"])
    moderation.hide_post(consultation.owner, topic.test_posts["hidden"], reason="Off topic.")
    return topic


def _by_id(records) -> dict[int, dict]:
    return {int(r["post_id"]): r for r in records}


def test_csv_and_json_posts_carry_each_responses_stance(proposal):
    scope = resolve(proposal.consultation.owner, "consultation", proposal.consultation_id)
    made = proposal.test_posts
    rows = _by_id(csv.DictReader(io.StringIO("".join(data.csv_chunks(scope)), newline="")))
    document = json.loads("".join(data.json_chunks(scope)))
    records = _by_id(document["posts"])
    for records_of_format in (rows, records):
        assert records_of_format[made["it_yes"].id]["stance"] == "in_favour"
        assert records_of_format[made["be_no"].id]["stance"] == "against"
        assert records_of_format[made["other"].id]["stance"] == ""
        assert records_of_format[made["reply"].id]["stance"] == ""
    assert "stance" in data.COLUMNS

    topics = {t["id"]: t for t in document["consultation"]["topics"]}
    assert topics[proposal.consultation.topics[0].id]["is_proposal"] is False
    assert "stances" not in topics[proposal.consultation.topics[0].id]
    stances = topics[proposal.id]["stances"]
    assert topics[proposal.id]["is_proposal"] is True
    assert stances["counts"] == {"in_favour": 2, "neutral": 0, "against": 1}  # the hidden one left out
    assert stances["by_country"] == [{"code": "BE", "counts": {"in_favour": 1, "neutral": 0, "against": 1}},
                                     {"code": "IT", "counts": {"in_favour": 1, "neutral": 0, "against": 0}}]
    assert [g["code"] for g in stances["by_organisation_type"]] == ["ngo", "trade_union"]


def test_a_topic_no_longer_a_proposal_exports_no_stances(proposal):
    consultations.update_topic(proposal.consultation.owner, proposal, consultations.TopicInput(title=proposal.title))
    scope = resolve(proposal.consultation.owner, "consultation", proposal.consultation_id)
    document = json.loads("".join(data.json_chunks(scope)))
    assert {r["stance"] for r in document["posts"]} == {""}
    assert all("stances" not in t for t in document["consultation"]["topics"])


def _report(proposal, kind="consultation", object_id=None):
    with force_locale("en"):
        return reports.build_report(resolve(proposal.consultation.owner, kind, object_id or proposal.consultation_id))


def test_the_report_summarises_the_proposals_stances(proposal):
    report = _report(proposal)
    [section] = [s for s in report.sections if s.stances is not None]
    assert section.id == proposal.id
    assert [(r.label, r.count) for r in section.stances.chart.rows] == [("In favour", 2), ("Neutral", 0),
                                                                        ("Against", 1)]
    assert [(g.label, g.counts, g.total) for g in section.stances.by_country] == [
        ("Belgium", [1, 0, 1], 2), ("Italy", [1, 0, 0], 1)]
    assert [g.label for g in section.stances.by_organisation_type] == ["NGO", "Trade union"]

    with force_locale("en"):
        markdown = reports.render_markdown(report)
        html = reports.render_html(report, standalone=True)
    assert "### Stances on the proposal" in markdown
    assert "| In favour | 2 | 67% |" in markdown
    assert "#### Stances by country" in markdown
    assert "| Belgium | 1 | 0 | 1 | 2 |" in markdown
    assert "| Trade union | 0 | 0 | 1 | 1 |" in markdown
    assert "Employers" not in markdown.split("Stances on the proposal")[1]  # the hidden one's group

    page = parse(html)
    tables = {t.one("caption").text(): t for t in page.find_all("table")}
    assert {"Stances on the proposal", "Stances by country", "Stances by type of organisation"} <= set(tables)
    rows = [[c.text() for c in tr.children if not isinstance(c, str)]
            for tr in tables["Stances by country"].one("tbody").find_all("tr")]
    assert rows == [["Belgium", "1", "0", "1", "2"], ["Italy", "1", "0", "0", "1"]]


def test_the_pdf_report_holds_the_stance_tables(proposal, tmp_path):
    report = _report(proposal, "topic", proposal.id)
    with force_locale("en"):
        text = _pdftotext(reports.render_pdf(report), tmp_path)
    text = " ".join(text.split())
    assert "Stances on the proposal" in text
    assert re.search(r"Stances by country Country In favour Neutral Against Total Belgium 1 0 1 2", text)
    assert "Stances by type of organisation" in text


def test_a_report_without_proposals_says_nothing_of_stances(db, make_consultation, make_post):
    consultation = make_consultation()
    make_post(consultation=consultation)
    with force_locale("en"):
        report = reports.build_report(resolve(consultation.owner, "consultation", consultation.id))
        markdown = reports.render_markdown(report)
    assert all(s.stances is None for s in report.sections)
    assert "Stance" not in markdown
