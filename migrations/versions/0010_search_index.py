"""search index: one row per consultation, topic, post and event, with PostgreSQL's tsvector
(GIN) or SQLite's FTS5 table; filled for the existing data

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 10:00:00.000000

"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('search_document',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('object_id', sa.Integer(), nullable=False),
    sa.Column('consultation_id', sa.Integer(), nullable=True),
    sa.Column('topic_id', sa.Integer(), nullable=True),
    sa.Column('event_id', sa.Integer(), nullable=True),
    sa.Column('room_id', sa.Integer(), nullable=True),
    sa.Column('post_id', sa.Integer(), nullable=True),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('language', sa.String(length=16), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('vector', postgresql.TSVECTOR().with_variant(sa.Text(), 'sqlite'), nullable=True),
    sa.ForeignKeyConstraint(['author_id'], ['user.id'], name=op.f('fk_search_document_author_id_user'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['consultation_id'], ['consultation.id'], name=op.f('fk_search_document_consultation_id_consultation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['event_id'], ['event.id'], name=op.f('fk_search_document_event_id_event'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['post_id'], ['post.id'], name=op.f('fk_search_document_post_id_post'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['room_id'], ['room.id'], name=op.f('fk_search_document_room_id_room'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['topic_id'], ['topic.id'], name=op.f('fk_search_document_topic_id_topic'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_search_document')),
    sa.UniqueConstraint('kind', 'object_id', name=op.f('uq_search_document_kind_object_id'))
    )
    with op.batch_alter_table('search_document', schema=None) as batch_op:
        batch_op.create_index('ix_search_document_author_id', ['author_id'], unique=False)
        batch_op.create_index('ix_search_document_consultation_created', ['consultation_id', 'created_at'], unique=False)
        batch_op.create_index('ix_search_document_created_at', ['created_at'], unique=False)
        batch_op.create_index('ix_search_document_event_id', ['event_id'], unique=False)
        batch_op.create_index('ix_search_document_post_id', ['post_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_search_document_room_id'), ['room_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_search_document_topic_id'), ['topic_id'], unique=False)
    bind = op.get_bind()
    if bind.dialect.name == 'postgresql':
        op.create_index('ix_search_document_vector', 'search_document', ['vector'], unique=False, postgresql_using='gin')

    # The engine's own objects now; the rows of what exists are written once every migration
    # has run (migrations/env.py), by the code that keeps them in step afterwards
    # (forum/services/search_index.py), so that both agree, and with the models it was
    # written for (at this revision, later columns are not there yet).
    from forum.models.search import create_engine_objects
    from forum.services.search_index import ask_rebuild

    create_engine_objects(bind)
    ask_rebuild()


def downgrade():
    from forum.models.search import drop_engine_objects

    drop_engine_objects(op.get_bind())
    if op.get_bind().dialect.name == 'postgresql':
        op.drop_index('ix_search_document_vector', table_name='search_document', postgresql_using='gin')
    with op.batch_alter_table('search_document', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_search_document_topic_id'))
        batch_op.drop_index(batch_op.f('ix_search_document_room_id'))
        batch_op.drop_index('ix_search_document_post_id')
        batch_op.drop_index('ix_search_document_event_id')
        batch_op.drop_index('ix_search_document_created_at')
        batch_op.drop_index('ix_search_document_consultation_created')
        batch_op.drop_index('ix_search_document_author_id')

    op.drop_table('search_document')
