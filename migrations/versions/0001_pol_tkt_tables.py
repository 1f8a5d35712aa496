"""Policies (pol_) and tickets (tkt_) tables: first schema.

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-22 00:21:48.837581
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('pol_policies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=32), nullable=False),
    sa.Column('holder_name', sa.String(length=64), nullable=False),
    sa.Column('holder_mobile', sa.String(length=16), nullable=False),
    sa.Column('holder_id_number', sa.String(length=18), nullable=False),
    sa.Column('insurer', sa.String(length=128), nullable=False),
    sa.Column('manual_id', sa.String(length=64), nullable=True),
    sa.Column('product', sa.String(length=255), nullable=False),
    sa.Column('edition', sa.String(length=128), nullable=True),
    sa.Column('tier', sa.String(length=128), nullable=True),
    sa.Column('effective_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=False),
    sa.Column('payment_term_years', sa.Integer(), nullable=True),
    sa.Column('is_transfer', sa.Boolean(), nullable=False),
    sa.Column('is_renewal', sa.Boolean(), nullable=False),
    sa.Column('addons', sa.JSON(), nullable=False),
    sa.Column('family_policy', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('number')
    )
    op.create_table('pol_usage',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('policy_number', sa.String(length=32), nullable=False),
    sa.Column('service_manual_id', sa.String(length=64), nullable=False),
    sa.Column('service_key', sa.String(length=128), nullable=False),
    sa.Column('service_name', sa.String(length=255), nullable=False),
    sa.Column('person_name', sa.String(length=64), nullable=False),
    sa.Column('person_id_number', sa.String(length=18), nullable=True),
    sa.Column('used_on', sa.Date(), nullable=False),
    sa.Column('ticket_number', sa.String(length=32), nullable=True),
    sa.Column('counts_as_used', sa.Boolean(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('ticket_number')
    )
    with op.batch_alter_table('pol_usage', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pol_usage_policy_number'), ['policy_number'], unique=False)

    op.create_table('tkt_counters',
    sa.Column('day', sa.String(length=8), nullable=False),
    sa.Column('last', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('day')
    )
    op.create_table('tkt_tickets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=32), nullable=False),
    sa.Column('idempotency_key', sa.String(length=128), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('service_manual_id', sa.String(length=64), nullable=False),
    sa.Column('service_key', sa.String(length=128), nullable=False),
    sa.Column('service_name', sa.String(length=255), nullable=False),
    sa.Column('insurer', sa.String(length=128), nullable=True),
    sa.Column('policy_number', sa.String(length=32), nullable=False),
    sa.Column('person_name', sa.String(length=64), nullable=False),
    sa.Column('person_id_number', sa.String(length=18), nullable=True),
    sa.Column('city_raw', sa.String(length=64), nullable=False),
    sa.Column('city_code', sa.String(length=12), nullable=True),
    sa.Column('city_name', sa.String(length=64), nullable=True),
    sa.Column('coverage', sa.String(length=16), nullable=False),
    sa.Column('hospital', sa.String(length=255), nullable=True),
    sa.Column('preferred_time', sa.DateTime(), nullable=False),
    sa.Column('contact_phone', sa.String(length=16), nullable=False),
    sa.Column('channel', sa.String(length=32), nullable=False),
    sa.Column('conversation_id', sa.String(length=128), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('system_notes', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('idempotency_key'),
    sa.UniqueConstraint('number')
    )
    with op.batch_alter_table('tkt_tickets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tkt_tickets_conversation_id'), ['conversation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_tkt_tickets_policy_number'), ['policy_number'], unique=False)
        batch_op.create_index(batch_op.f('ix_tkt_tickets_status'), ['status'], unique=False)

    op.create_table('pol_family_members',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('policy_id', sa.Integer(), nullable=False),
    sa.Column('relation', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('birth_date', sa.Date(), nullable=False),
    sa.Column('id_number', sa.String(length=18), nullable=False),
    sa.Column('since', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['policy_id'], ['pol_policies.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('pol_family_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pol_family_members_policy_id'), ['policy_id'], unique=False)

    op.create_table('pol_insured',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('policy_id', sa.Integer(), nullable=False),
    sa.Column('relation', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('birth_date', sa.Date(), nullable=False),
    sa.Column('id_number', sa.String(length=18), nullable=False),
    sa.ForeignKeyConstraint(['policy_id'], ['pol_policies.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('pol_insured', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pol_insured_policy_id'), ['policy_id'], unique=False)

    op.create_table('tkt_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('from_status', sa.String(length=16), nullable=True),
    sa.Column('to_status', sa.String(length=16), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['ticket_id'], ['tkt_tickets.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('tkt_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tkt_events_ticket_id'), ['ticket_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('tkt_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tkt_events_ticket_id'))

    op.drop_table('tkt_events')
    with op.batch_alter_table('pol_insured', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pol_insured_policy_id'))

    op.drop_table('pol_insured')
    with op.batch_alter_table('pol_family_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pol_family_members_policy_id'))

    op.drop_table('pol_family_members')
    with op.batch_alter_table('tkt_tickets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tkt_tickets_status'))
        batch_op.drop_index(batch_op.f('ix_tkt_tickets_policy_number'))
        batch_op.drop_index(batch_op.f('ix_tkt_tickets_conversation_id'))

    op.drop_table('tkt_tickets')
    op.drop_table('tkt_counters')
    with op.batch_alter_table('pol_usage', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pol_usage_policy_number'))

    op.drop_table('pol_usage')
    op.drop_table('pol_policies')
