"""quotes by reference

A quote used to be copied into the quoting reply's text ("Ann wrote:" and the quoted lines,
in the quoter's language), so that it outlived the deletion or hiding of what it quoted. A
post now names the post it quotes (`quoted_post_id`, always its parent) and the quote is
rendered from that post when read.

The data step turns the old form into the new one: a reply whose Markdown starts with
"<name> wrote:" (or the Italian "<name> ha scritto:"), <name> being its parent's author, then
">" lines, loses that block (in its earlier versions too) and quotes its parent instead. A
reply whose quote was edited away or rewritten does not start that way and is left as it is.
The downgrade drops the reference: those replies keep only their own words.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 01:15:00

"""
import re

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

# The header `forum.services.posts.quote` wrote, in each language it was translated into.
_OLD_QUOTE = re.compile(r"\A(?P<name>[^\n]+?) (?:wrote|ha scritto):\n(?:>[^\n]*(?:\n|\Z))+\n*")


def strip_old_quote(body: str, quoted_author: str) -> str | None:
    """`body` without the copied quote it starts with, or None if it does not start with one
    of `quoted_author`'s words."""
    match = _OLD_QUOTE.match(body.replace("\r\n", "\n"))
    if match is None or match.group("name") != quoted_author:
        return None
    return body.replace("\r\n", "\n")[match.end():]


def upgrade():
    with op.batch_alter_table('post', schema=None) as batch_op:
        batch_op.add_column(sa.Column('quoted_post_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_post_quoted_post_id_post'), 'post', ['quoted_post_id'], ['id'])
        # The replies quoting a post are looked up whenever it is edited, deleted, hidden or restored.
        batch_op.create_index(batch_op.f('ix_post_quoted_post_id'), ['quoted_post_id'], unique=False)
        batch_op.create_check_constraint(
            batch_op.f('ck_post_quotes_its_parent'), 'quoted_post_id IS NULL OR quoted_post_id = parent_id')
    _quotes_to_references()


def _quotes_to_references():
    from forum.rendering import render_markdown

    connection = op.get_bind()
    post = sa.table('post', sa.column('id'), sa.column('parent_id'), sa.column('author_id'), sa.column('body'),
                    sa.column('body_html'), sa.column('quoted_post_id'))
    parent = post.alias('parent')
    user = sa.table('user', sa.column('id'), sa.column('display_name'))
    revision = sa.table('post_revision', sa.column('id'), sa.column('post_id'), sa.column('body'))
    # Only replies can have quoted (the form quoted the post replied to).
    replies = connection.execute(
        sa.select(post.c.id, post.c.body, post.c.parent_id, user.c.display_name)
        .join(parent, parent.c.id == post.c.parent_id).join(user, user.c.id == parent.c.author_id)
        .where(post.c.body.like('%:\n>%'))).all()
    for reply in replies:
        own_words = strip_old_quote(reply.body, reply.display_name)
        if own_words is None:
            continue
        connection.execute(sa.update(post).where(post.c.id == reply.id).values(
            body=own_words, body_html=render_markdown(own_words) if own_words.strip() else "",
            quoted_post_id=reply.parent_id))
    # Earlier versions of any reply (quoting or not now) may hold a copied quote too.
    versions = connection.execute(
        sa.select(revision.c.id, revision.c.body, user.c.display_name)
        .join(post, post.c.id == revision.c.post_id).join(parent, parent.c.id == post.c.parent_id)
        .join(user, user.c.id == parent.c.author_id).where(revision.c.body.like('%:\n>%'))).all()
    for version in versions:
        own_words = strip_old_quote(version.body, version.display_name)
        if own_words is not None:
            connection.execute(sa.update(revision).where(revision.c.id == version.id).values(body=own_words))


def downgrade():
    with op.batch_alter_table('post', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_post_quotes_its_parent'), type_='check')
        batch_op.drop_index(batch_op.f('ix_post_quoted_post_id'))
        batch_op.drop_constraint(batch_op.f('fk_post_quoted_post_id_post'), type_='foreignkey')
        batch_op.drop_column('quoted_post_id')
