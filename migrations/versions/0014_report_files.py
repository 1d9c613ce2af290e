"""report files: reports built by a job and kept for download (forum/services/reports.py)

Revision ID: 0014
Revises: 0012
Create Date: 2026-11-30 14:40:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('report_file',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('object_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('format', sa.String(length=8), nullable=False),
    sa.Column('language', sa.String(length=16), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('status', sa.Enum('queued', 'building', 'done', 'failed', name='reportstatus', native_enum=False, length=24), nullable=False),
    sa.Column('progress', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('stored_name', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('progress >= 0 AND progress <= 100', name=op.f('ck_report_file_progress_percent')),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_report_file_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_file'))
    )
    with op.batch_alter_table('report_file', schema=None) as batch_op:
        batch_op.create_index('ix_report_file_created_at', ['created_at'], unique=False)
        batch_op.create_index('ix_report_file_user_scope', ['user_id', 'kind', 'object_id', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('report_file', schema=None) as batch_op:
        batch_op.drop_index('ix_report_file_user_scope')
        batch_op.drop_index('ix_report_file_created_at')
    op.drop_table('report_file')
