"""incident lookups: indexes, and the sample texts kept on each ticket

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 19:03:40.431340
"""
from alembic import op
import sqlalchemy as sa
import storage.tables
from sqlalchemy.dialects import postgresql


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.create_index('ix_items_text_hash', ['text_hash'], unique=False)

    with op.batch_alter_table('ticket_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ticket_items_added_at'), ['added_at'], unique=False)

    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sample_texts', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'),
                                      nullable=False, server_default='[]'))



def downgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_column('sample_texts')

    with op.batch_alter_table('ticket_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ticket_items_added_at'))

    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.drop_index('ix_items_text_hash')

