"""notifications, follows and mail settings

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 13:40:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():

    op.create_table('notification_setting',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('reply', 'quote', 'mention', 'endorsement', 'moderation', 'thread_reply', 'new_response', 'new_topic', 'new_poll', 'closing_soon', 'placement', 'event_starting', name='notificationkind', native_enum=False, length=24), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_notification_setting_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification_setting')),
    sa.UniqueConstraint('user_id', 'kind', name=op.f('uq_notification_setting_user_id_kind'))
    )
    op.create_table('follow',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('consultation_id', sa.Integer(), nullable=True),
    sa.Column('topic_id', sa.Integer(), nullable=True),
    sa.Column('thread_id', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('(CASE WHEN consultation_id IS NULL THEN 0 ELSE 1 END + CASE WHEN topic_id IS NULL THEN 0 ELSE 1 END + CASE WHEN thread_id IS NULL THEN 0 ELSE 1 END) = 1', name=op.f('ck_follow_one_target')),
    sa.ForeignKeyConstraint(['consultation_id'], ['consultation.id'], name=op.f('fk_follow_consultation_id_consultation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['thread_id'], ['post.id'], name=op.f('fk_follow_thread_id_post'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['topic_id'], ['topic.id'], name=op.f('fk_follow_topic_id_topic'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_follow_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_follow')),
    sa.UniqueConstraint('user_id', 'consultation_id', name=op.f('uq_follow_user_id_consultation_id')),
    sa.UniqueConstraint('user_id', 'thread_id', name=op.f('uq_follow_user_id_thread_id')),
    sa.UniqueConstraint('user_id', 'topic_id', name=op.f('uq_follow_user_id_topic_id'))
    )
    with op.batch_alter_table('follow', schema=None) as batch_op:
        batch_op.create_index('ix_follow_consultation', ['consultation_id', 'active'], unique=False)
        batch_op.create_index('ix_follow_thread', ['thread_id', 'active'], unique=False)
        batch_op.create_index('ix_follow_topic', ['topic_id', 'active'], unique=False)

    op.create_table('notification',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('reply', 'quote', 'mention', 'endorsement', 'moderation', 'thread_reply', 'new_response', 'new_topic', 'new_poll', 'closing_soon', 'placement', 'event_starting', name='notificationkind', native_enum=False, length=24), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('post_id', sa.Integer(), nullable=True),
    sa.Column('consultation_id', sa.Integer(), nullable=True),
    sa.Column('topic_id', sa.Integer(), nullable=True),
    sa.Column('event_id', sa.Integer(), nullable=True),
    sa.Column('room_id', sa.Integer(), nullable=True),
    sa.Column('poll_id', sa.Integer(), nullable=True),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('dedup_key', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('emailed_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('count >= 1', name=op.f('ck_notification_count_positive')),
    sa.ForeignKeyConstraint(['actor_id'], ['user.id'], name=op.f('fk_notification_actor_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['consultation_id'], ['consultation.id'], name=op.f('fk_notification_consultation_id_consultation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['event_id'], ['event.id'], name=op.f('fk_notification_event_id_event'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['poll_id'], ['poll.id'], name=op.f('fk_notification_poll_id_poll'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['post_id'], ['post.id'], name=op.f('fk_notification_post_id_post'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['room_id'], ['room.id'], name=op.f('fk_notification_room_id_room'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['topic_id'], ['topic.id'], name=op.f('fk_notification_topic_id_topic'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_notification_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification')),
    sa.UniqueConstraint('user_id', 'dedup_key', name=op.f('uq_notification_user_id_dedup_key'))
    )
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notification_post_id'), ['post_id'], unique=False)
        batch_op.create_index('ix_notification_user_read', ['user_id', 'read_at', 'created_at'], unique=False)

    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email_verified_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('email_immediate', sa.Boolean(), nullable=False, server_default=sa.true()))
        batch_op.add_column(sa.Column('digest_frequency', sa.String(length=8), nullable=False, server_default='daily'))
        batch_op.add_column(sa.Column('last_digest_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('handle', sa.String(length=30), nullable=True))

    # Every existing account gets a handle made from its display name, as registration does.
    from forum.services.mentions import unique_handle

    bind = op.get_bind()
    user = sa.table('user', sa.column('id', sa.Integer), sa.column('display_name', sa.String),
                    sa.column('handle', sa.String))
    taken: set[str] = set()
    for user_id, display_name in bind.execute(sa.select(user.c.id, user.c.display_name).order_by(user.c.id)).all():
        handle = unique_handle(display_name, taken.__contains__)
        taken.add(handle)
        bind.execute(user.update().where(user.c.id == user_id).values(handle=handle))
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.alter_column('handle', existing_type=sa.String(length=30), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_user_handle'), ['handle'])




def downgrade():

    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_user_handle'), type_='unique')
        batch_op.drop_column('handle')
        batch_op.drop_column('last_digest_at')
        batch_op.drop_column('digest_frequency')
        batch_op.drop_column('email_immediate')
        batch_op.drop_column('email_verified_at')

    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_index('ix_notification_user_read')
        batch_op.drop_index(batch_op.f('ix_notification_post_id'))

    op.drop_table('notification')
    with op.batch_alter_table('follow', schema=None) as batch_op:
        batch_op.drop_index('ix_follow_topic')
        batch_op.drop_index('ix_follow_thread')
        batch_op.drop_index('ix_follow_consultation')

    op.drop_table('follow')
    op.drop_table('notification_setting')

