"""analyses.genre: complaint | notice | other (NULL for analyses made before genres existed)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 12:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('analyses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('genre', sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('analyses', schema=None) as batch_op:
        batch_op.drop_column('genre')
