"""The product's waiting period on a policy (pol_policies.waiting_days), for services whose manual says
their waiting period is the insurance contract's.

Revision ID: 0003
Revises: 0002
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    cols = {c["name"] for c in sa.inspect(op.get_bind()).get_columns('pol_policies')}
    if 'waiting_days' not in cols:
        with op.batch_alter_table('pol_policies') as batch:
            batch.add_column(sa.Column('waiting_days', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('pol_policies') as batch:
        batch.drop_column('waiting_days')
