"""plenary questions and their votes

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 10:30:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('question',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('room_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('body', sa.String(length=1000), nullable=False),
    sa.Column('status', sa.Enum('pending', 'published', 'answered', 'dismissed', name='questionstatus', native_enum=False, length=16), nullable=False),
    sa.Column('anonymous', sa.Boolean(), nullable=False),
    sa.Column('vote_count', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('dismissed_reason', sa.String(length=500), nullable=False),
    sa.CheckConstraint('vote_count >= 0', name=op.f('ck_question_vote_count_not_negative')),
    sa.ForeignKeyConstraint(['author_id'], ['user.id'], name=op.f('fk_question_author_id_user'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['room_id'], ['room.id'], name=op.f('fk_question_room_id_room'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_question'))
    )
    with op.batch_alter_table('question', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_question_author_id'), ['author_id'], unique=False)
        batch_op.create_index('ix_question_room_id', ['room_id', 'status', 'vote_count'], unique=False)

    op.create_table('question_vote',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['question_id'], ['question.id'], name=op.f('fk_question_vote_question_id_question'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_question_vote_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_question_vote')),
    sa.UniqueConstraint('question_id', 'user_id', name=op.f('uq_question_vote_question_id_user_id'))
    )
    with op.batch_alter_table('question_vote', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_question_vote_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('room', schema=None) as batch_op:
        batch_op.add_column(sa.Column('questions_premoderated', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade():
    with op.batch_alter_table('room', schema=None) as batch_op:
        batch_op.drop_column('questions_premoderated')

    with op.batch_alter_table('question_vote', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_question_vote_user_id'))

    op.drop_table('question_vote')
    with op.batch_alter_table('question', schema=None) as batch_op:
        batch_op.drop_index('ix_question_room_id')
        batch_op.drop_index(batch_op.f('ix_question_author_id'))

    op.drop_table('question')
