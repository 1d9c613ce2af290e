"""stored event payloads, and an index for catch-up

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 01:30:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    # Events recorded before this column have no payload; a client that has missed one of
    # them is told to reload its page (forum/services/events.py), so none is rendered here.
    with op.batch_alter_table('stream_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('payload', sa.JSON(), nullable=True))
        # Catch-up asks, for each event of a page, whether a later one of the same stream is
        # about the same post: (post_id, stream_key, seq) answers that with one probe.
        batch_op.drop_index('ix_stream_event_post_id')
        batch_op.create_index('ix_stream_event_post', ['post_id', 'stream_key', 'seq'], unique=False)


def downgrade():
    with op.batch_alter_table('stream_event', schema=None) as batch_op:
        batch_op.drop_index('ix_stream_event_post')
        batch_op.create_index('ix_stream_event_post_id', ['post_id'], unique=False)
        batch_op.drop_column('payload')
