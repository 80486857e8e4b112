"""sources.not_before: a source asked to pause (FloodWait, Retry-After) is not polled before it

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 10:00:00.000000
"""
from alembic import op
import sqlalchemy as sa
import storage.tables


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('sources', schema=None) as batch_op:
        batch_op.add_column(sa.Column('not_before', storage.tables.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('sources', schema=None) as batch_op:
        batch_op.drop_column('not_before')
