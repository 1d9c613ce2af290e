"""report cover (summary, next steps, logo), event speakers, attendance

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30 16:30:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('report_cover',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=True),
    sa.Column('consultation_id', sa.Integer(), nullable=True),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('summary_html', sa.Text(), nullable=False),
    sa.Column('next_steps', sa.Text(), nullable=False),
    sa.Column('next_steps_html', sa.Text(), nullable=False),
    sa.Column('logo', sa.LargeBinary(), nullable=True),
    sa.Column('logo_type', sa.String(length=32), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('(event_id IS NULL) <> (consultation_id IS NULL)', name=op.f('ck_report_cover_one_scope')),
    sa.ForeignKeyConstraint(['consultation_id'], ['consultation.id'], name=op.f('fk_report_cover_consultation_id_consultation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['event_id'], ['event.id'], name=op.f('fk_report_cover_event_id_event'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['user.id'], name=op.f('fk_report_cover_updated_by_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_cover')),
    sa.UniqueConstraint('consultation_id', name=op.f('uq_report_cover_consultation_id')),
    sa.UniqueConstraint('event_id', name=op.f('uq_report_cover_event_id'))
    )
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('speakers', sa.Text(), nullable=False, server_default=''))
    with op.batch_alter_table('event_member', schema=None) as batch_op:
        batch_op.add_column(sa.Column('attended_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('event_member', schema=None) as batch_op:
        batch_op.drop_column('attended_at')
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.drop_column('speakers')
    op.drop_table('report_cover')
