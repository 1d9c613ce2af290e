"""event feedback: the organisers' form, the answers (anonymous unless named) and who answered

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 14:30:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('feedback_form',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('rate_room', sa.Boolean(), nullable=False),
    sa.Column('questions', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['event.id'], name=op.f('fk_feedback_form_event_id_event'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feedback_form')),
    sa.UniqueConstraint('event_id', name=op.f('uq_feedback_form_event_id'))
    )
    # No time column and a random id: an answer cannot be put in order next to who answered
    # (docs/feedback.md); on SQLite no hidden rowid either.
    op.create_table('feedback_answer',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('overall', sa.Integer(), nullable=False),
    sa.Column('room_id', sa.Integer(), nullable=True),
    sa.Column('room_rating', sa.Integer(), nullable=True),
    sa.Column('comments', sa.JSON(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('overall BETWEEN 1 AND 5', name=op.f('ck_feedback_answer_overall_1_to_5')),
    sa.CheckConstraint('room_rating IS NULL OR room_rating BETWEEN 1 AND 5', name=op.f('ck_feedback_answer_room_rating_1_to_5')),
    sa.ForeignKeyConstraint(['author_id'], ['user.id'], name=op.f('fk_feedback_answer_author_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['event_id'], ['event.id'], name=op.f('fk_feedback_answer_event_id_event'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['room_id'], ['room.id'], name=op.f('fk_feedback_answer_room_id_room'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feedback_answer')),
    sqlite_with_rowid=False
    )
    with op.batch_alter_table('feedback_answer', schema=None) as batch_op:
        batch_op.create_index('ix_feedback_answer_event_id', ['event_id'], unique=False)

    op.create_table('feedback_submission',
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['event.id'], name=op.f('fk_feedback_submission_event_id_event'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_feedback_submission_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('event_id', 'user_id', name=op.f('pk_feedback_submission')),
    sqlite_with_rowid=False
    )
    with op.batch_alter_table('feedback_submission', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_feedback_submission_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('feedback_submission', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_feedback_submission_user_id'))

    op.drop_table('feedback_submission')
    with op.batch_alter_table('feedback_answer', schema=None) as batch_op:
        batch_op.drop_index('ix_feedback_answer_event_id')

    op.drop_table('feedback_answer')
    op.drop_table('feedback_form')
