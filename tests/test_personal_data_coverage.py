"""A person's copy of their data (forum/exports/personal_data.py) covers every table linked to
a person: each column holding a user id (a foreign key to user.id) is named in its COVERAGE,
with the file its rows go to, or in its EXCLUDED, with the reason they are left out. A new
model with a user foreign key fails here until the copy takes it in, or says why not."""
from __future__ import annotations

from forum.exports import personal_data
from forum.extensions import db
from forum.models.base import utcnow

# Covered without a query of their own on that column: the account's row itself, and a post's
# versions (only its author edits a post: they are read with the author's posts).
READ_OTHERWISE = {("user", "id"), ("post_revision", "editor_id")}


def user_columns() -> set[tuple[str, str]]:
    """(table, column) of every column with a foreign key to user.id, and user.id itself."""
    found = {("user", "id")}
    for table in db.metadata.sorted_tables:
        for column in table.columns:
            if any(fk.column.table.name == "user" and fk.column.name == "id" for fk in column.foreign_keys):
                found.add((table.name, column.name))
    return found


def test_every_user_column_is_in_the_copy_or_left_out_with_a_reason():
    columns = user_columns()
    assert len(columns) > 30  # the metadata was read
    undecided = columns - set(personal_data.COVERAGE) - set(personal_data.EXCLUDED)
    assert undecided == set(), "add these to personal_data.COVERAGE (and the copy) or EXCLUDED with a reason"
    assert set(personal_data.COVERAGE) | set(personal_data.EXCLUDED) == columns  # nothing stale
    assert set(personal_data.COVERAGE) & set(personal_data.EXCLUDED) == set()
    assert set(personal_data.COVERAGE.values()) <= set(personal_data.FILES)
    assert all(len(reason) > 20 for reason in personal_data.EXCLUDED.values())


def test_the_copy_reads_each_covered_column(app, make_user, count_queries, tmp_path):
    """What COVERAGE claims, the SQL of a copy does: it selects rows by each of these columns."""
    person = make_user()
    with count_queries() as statements:
        personal_data.write_archive(person, tmp_path / "copy.zip", timezone_name="UTC", generated_at=utcnow())
    sql = "\n".join(statements).lower()
    unread = [f"{table}.{column}" for table, column in personal_data.COVERAGE
              if (table, column) not in READ_OTHERWISE and f"{table}.{column}" not in sql]
    assert unread == []
