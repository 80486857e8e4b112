"""quarantine.status, resolved_at, resolved_by, resolution: a record retried or dropped by an operator

Rows quarantined before this migration are 'open'.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 18:40:00.000000
"""
from alembic import op
import sqlalchemy as sa
import storage.tables


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('quarantine', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status', sa.String(length=16), server_default='open', nullable=False))
        batch_op.add_column(sa.Column('resolved_at', storage.tables.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('resolved_by', sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column('resolution', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('quarantine', schema=None) as batch_op:
        batch_op.drop_column('resolution')
        batch_op.drop_column('resolved_by')
        batch_op.drop_column('resolved_at')
        batch_op.drop_column('status')
