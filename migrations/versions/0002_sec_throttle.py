"""Identity-check throttle (sec_throttle) and its audit trail (sec_audit), see core/throttle.py.

Revision ID: 0002
Revises: 0001
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if sa.inspect(op.get_bind()).has_table('sec_throttle'):  # made by core.throttle before this migration ran
        return
    op.create_table('sec_throttle',
                    sa.Column('key', sa.String(length=40), nullable=False),
                    sa.Column('failures', sa.Integer(), nullable=False),
                    sa.Column('window_start', sa.DateTime(), nullable=False),
                    sa.Column('locked_until', sa.DateTime(), nullable=True),
                    sa.PrimaryKeyConstraint('key'))
    op.create_table('sec_audit',
                    sa.Column('id', sa.Integer(), nullable=False),
                    sa.Column('at', sa.DateTime(), nullable=False),
                    sa.Column('event', sa.String(length=32), nullable=False),
                    sa.Column('subject', sa.String(length=64), nullable=False),
                    sa.Column('client', sa.String(length=64), nullable=True),
                    sa.Column('detail', sa.String(length=255), nullable=True),
                    sa.PrimaryKeyConstraint('id'))
    with op.batch_alter_table('sec_audit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sec_audit_at'), ['at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('sec_audit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sec_audit_at'))
    op.drop_table('sec_audit')
    op.drop_table('sec_throttle')
