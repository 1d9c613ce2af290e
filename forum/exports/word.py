"""The summary report as an editable Word document (python-docx), for organisers who finish
their report in a word processor.

The document is written from the report's Markdown (`report.render_markdown`), line by line:
headings, tables, bulleted and numbered lists, code blocks (the polls' text bars) and
paragraphs; so it has every section the Markdown has, in the same order, with the same words.
After the heading of each of the report's charts, the chart is inserted as a PNG picture,
drawn with Pillow (WeasyPrint's own image library, already installed for the PDF): the HTML
and PDF charts are inline SVG, and rasterising SVG would need a new, heavy dependency
(cairosvg or a browser), while these charts are plain bars. The table of the same figures
follows each picture, as in the PDF.
"""
from __future__ import annotations

import io
import re
from functools import cache

from docx import Document
from docx.shared import Inches, Pt
from PIL import Image, ImageDraw, ImageFont

from forum import jobs
from forum.exports import report as report_export

_UNESCAPE = re.compile(r"\\([\\`*_\[\]<>|#~])")
_BOLD = re.compile(r"\*\*(.+?)\*\*")
BAR_COLOUR = (31, 95, 153)
TEXT_COLOUR = (34, 34, 34)
FONT_CANDIDATES = ("DejaVuSans.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
                   "/usr/share/fonts/dejavu/DejaVuSans.ttf", "Arial.ttf")


def _text(markdown: str) -> str:
    """Inline Markdown of the report (escaped text, **bold**) as plain text."""
    return _UNESCAPE.sub(r"\1", _BOLD.sub(r"\1", markdown))


def _cells(line: str) -> list[str]:
    # Split on the unescaped pipes only.
    inner = line.strip()[1:-1]
    return [_text(cell.strip()) for cell in re.split(r"(?<!\\)\|", inner)]


@cache
def _font(size: int):
    for candidate in FONT_CANDIDATES:
        try:
            return ImageFont.truetype(candidate, size)
        except OSError:
            continue
    return ImageFont.load_default()


def chart_png(chart) -> bytes | None:
    """A horizontal bar chart of `chart.rows` as PNG (None when there is nothing to draw)."""
    rows = chart.rows[:report_export.MAX_BUCKETS]
    if not rows or not any(r.count for r in rows):
        return None
    font = _font(22)
    scale_width, bar_height, gap, margin = 1400, 34, 12, 20
    probe = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    label_width = min(560, max(probe.textlength(r.label, font=font) for r in rows) + 16)
    count_width = max(probe.textlength(report_export.number(r.count), font=font) for r in rows) + 16
    plot = scale_width - label_width - count_width - 2 * margin
    height = margin * 2 + len(rows) * (bar_height + gap)
    image = Image.new("RGB", (scale_width, height), "white")
    draw = ImageDraw.Draw(image)
    top = max(r.count for r in rows)
    for i, r in enumerate(rows):
        y = margin + i * (bar_height + gap)
        label = r.label
        while probe.textlength(label, font=font) > label_width - 16 and len(label) > 2:
            label = label[:-2] + "…"
        draw.text((margin, y + 4), label, fill=TEXT_COLOUR, font=font)
        width = round(r.count / top * plot)
        x0 = margin + label_width
        if width:
            draw.rectangle((x0, y, x0 + width, y + bar_height), fill=BAR_COLOUR)
        draw.text((x0 + width + 8, y + 4), report_export.number(r.count), fill=TEXT_COLOUR, font=font)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _charts(built) -> dict[str, object]:
    """The report's charts by the heading they appear under in the Markdown."""
    charts = [built.by_country, built.by_organisation_type, built.section_chart, built.activity]
    charts += [s.stances.chart for s in built.sections if s.stances is not None]
    return {_text(report_export.md(c.title)): c for c in charts}


def render_docx(built) -> bytes:
    """The report `built` (report.build_report) as a .docx file: its Markdown and charts are
    written here (they need the report's language), the document itself off a socket-serving
    process's event loop (forum/jobs.py)."""
    pictures = {title: chart_png(chart) for title, chart in _charts(built).items()}
    logo = built.logo[0] if built.logo is not None else None
    return jobs.off_the_loop(write_docx, report_export.render_markdown(built).splitlines(), pictures, logo)


def write_docx(lines: list[str], pictures: dict[str, bytes | None], logo: bytes | None) -> bytes:
    """The document from the report's Markdown lines, its charts' pictures by heading, and the
    cover's logo: python-docx's work alone (no database, no Flask context)."""
    document = Document()
    document.styles["Normal"].font.size = Pt(10.5)
    if logo is not None:  # the cover's logo, first (already a PNG or JPEG we wrote)
        document.add_picture(io.BytesIO(logo), width=Inches(2.2))
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.strip() or line.strip() == "---":
            i += 1
            continue
        if line.startswith("```"):
            block = []
            i += 1
            while i < len(lines) and not lines[i].startswith("```"):
                block.append(lines[i])
                i += 1
            paragraph = document.add_paragraph()
            run = paragraph.add_run("\n".join(block))
            run.font.name = "Courier New"
            run.font.size = Pt(9)
            i += 1
            continue
        heading = re.match(r"^(#{1,6}) (.*)$", line)
        if heading:
            level = len(heading.group(1)) - 1
            title = _text(heading.group(2))
            document.add_heading(title, level=level)
            picture = pictures.get(title) if level >= 2 else None
            if picture:
                document.add_picture(io.BytesIO(picture), width=Inches(6))
            i += 1
            continue
        if line.startswith("|"):
            rows = []
            while i < len(lines) and lines[i].startswith("|"):
                if not re.match(r"^\|[\s\-:|]+\|$", lines[i]):
                    rows.append(_cells(lines[i]))
                i += 1
            table = document.add_table(rows=len(rows), cols=max(len(r) for r in rows))
            table.style = "Table Grid"
            # Row by row: python-docx's table.cell(r, c) walks the whole grid at every call.
            for r, (row, cells) in enumerate(zip(table.rows, rows, strict=True)):
                for cell, value in zip(row.cells, cells, strict=False):
                    cell.text = value
                    if r == 0:
                        for run in cell.paragraphs[0].runs:
                            run.bold = True
            continue
        bullet = re.match(r"^(\s*)- (.*)$", line)
        numbered = re.match(r"^(\s*)\d+\. (.*)$", line)
        if bullet:
            document.add_paragraph(_text(bullet.group(2)), style="List Bullet")
        elif numbered:
            document.add_paragraph(_text(numbered.group(2)), style="List Number")
        else:
            document.add_paragraph(_text(line))
        i += 1
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
