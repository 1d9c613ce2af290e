"""pre-event input: questions, answers, endorsements

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 14:35:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('preevent_question',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('room_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.Enum('priorities', 'discuss', 'experience', name='preeventkind', native_enum=False, length=24), nullable=False),
    sa.Column('label', sa.String(length=300), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['event.id'], name=op.f('fk_preevent_question_event_id_event'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['room_id'], ['room.id'], name=op.f('fk_preevent_question_room_id_room'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_preevent_question'))
    )
    with op.batch_alter_table('preevent_question', schema=None) as batch_op:
        batch_op.create_index('ix_preevent_question_event_id', ['event_id', 'room_id', 'position'], unique=False)
        batch_op.create_index(batch_op.f('ix_preevent_question_room_id'), ['room_id'], unique=False)

    op.create_table('preevent_answer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('endorsement_count', sa.Integer(), nullable=False),
    sa.Column('pinned_post_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('endorsement_count >= 0', name=op.f('ck_preevent_answer_endorsement_count_not_negative')),
    sa.ForeignKeyConstraint(['author_id'], ['user.id'], name=op.f('fk_preevent_answer_author_id_user'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['pinned_post_id'], ['post.id'], name=op.f('fk_preevent_answer_pinned_post_id_post'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['question_id'], ['preevent_question.id'], name=op.f('fk_preevent_answer_question_id_preevent_question'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_preevent_answer')),
    sa.UniqueConstraint('question_id', 'author_id', name=op.f('uq_preevent_answer_question_id_author_id'))
    )
    with op.batch_alter_table('preevent_answer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_preevent_answer_author_id'), ['author_id'], unique=False)

    op.create_table('preevent_endorsement',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('answer_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['answer_id'], ['preevent_answer.id'], name=op.f('fk_preevent_endorsement_answer_id_preevent_answer'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_preevent_endorsement_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_preevent_endorsement')),
    sa.UniqueConstraint('answer_id', 'user_id', name=op.f('uq_preevent_endorsement_answer_id_user_id'))
    )
    with op.batch_alter_table('preevent_endorsement', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_preevent_endorsement_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('preevent_endorsement', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_preevent_endorsement_user_id'))
    op.drop_table('preevent_endorsement')
    with op.batch_alter_table('preevent_answer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_preevent_answer_author_id'))
    op.drop_table('preevent_answer')
    with op.batch_alter_table('preevent_question', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_preevent_question_room_id'))
        batch_op.drop_index('ix_preevent_question_event_id')
    op.drop_table('preevent_question')
