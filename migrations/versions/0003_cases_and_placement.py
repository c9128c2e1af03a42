"""Cases and placement: import runs, ledger payments, placement batches and their frozen
candidate lists, payment reports and their matches, recall acknowledgements.

Revision ID: 0003
Revises: 0002
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import portal.db

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('import_runs',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('counts', sa.JSON(), nullable=False),
    sa.Column('errors', sa.JSON(), nullable=False),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('created_by', sa.Uuid(), nullable=True),
    sa.Column('created_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_runs'))
    )
    op.create_table('placement_batches',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('criteria', sa.JSON(), nullable=False),
    sa.Column('strategy', sa.String(length=30), nullable=False),
    sa.Column('seed', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('challengers', sa.JSON(), nullable=False),
    sa.Column('term_days', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_by', sa.Uuid(), nullable=True),
    sa.Column('created_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('decided_by', sa.Uuid(), nullable=True),
    sa.Column('decided_at', portal.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.Column('candidates_count', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('candidates_digest', sa.String(length=64), nullable=True),
    sa.Column('preview', sa.JSON(), nullable=True),
    sa.Column('previewed_at', portal.db.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_placement_batches'))
    )
    with op.batch_alter_table('placement_batches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_placement_batches_status'), ['status'], unique=False)
    op.create_table('ledger_payments',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('reference', sa.String(length=64), nullable=False),
    sa.Column('account_no', sa.String(length=64), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=True),
    sa.Column('paid_on', sa.Date(), nullable=False),
    sa.Column('amount_cents', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('imported_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_ledger_payments_case_id_cases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_payments')),
    sa.UniqueConstraint('reference', name=op.f('uq_ledger_payments_reference'))
    )
    with op.batch_alter_table('ledger_payments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ledger_payments_account_no'), ['account_no'], unique=False)
        batch_op.create_index(batch_op.f('ix_ledger_payments_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ledger_payments_paid_on'), ['paid_on'], unique=False)
    op.create_table('placement_batch_cases',
    sa.Column('batch_id', sa.Uuid(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['placement_batches.id'], name=op.f('fk_placement_batch_cases_batch_id_placement_batches')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_placement_batch_cases_case_id_cases')),
    sa.PrimaryKeyConstraint('batch_id', 'case_id', name=op.f('pk_placement_batch_cases'))
    )
    op.create_table('payment_reports',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('agency_id', sa.Uuid(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('placement_id', sa.Uuid(), nullable=False),
    sa.Column('paid_on', sa.Date(), nullable=False),
    sa.Column('amount_cents', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('reference', sa.String(length=100), nullable=True),
    sa.Column('reported_by', sa.Uuid(), nullable=True),
    sa.Column('reported_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ledger_payment_id', sa.Uuid(), nullable=True),
    sa.Column('matched_at', portal.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_payment_reports_agency_id_agencies')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_payment_reports_case_id_cases')),
    sa.ForeignKeyConstraint(['ledger_payment_id'], ['ledger_payments.id'], name=op.f('fk_payment_reports_ledger_payment_id_ledger_payments')),
    sa.ForeignKeyConstraint(['placement_id'], ['placements.id'], name=op.f('fk_payment_reports_placement_id_placements')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_reports')),
    sa.UniqueConstraint('ledger_payment_id', name=op.f('uq_payment_reports_ledger_payment_id'))
    )
    with op.batch_alter_table('payment_reports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payment_reports_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_payment_reports_case_id'), ['case_id'], unique=False)
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('import_digest', sa.LargeBinary(length=16), nullable=True))
    with op.batch_alter_table('placements', schema=None) as batch_op:
        batch_op.add_column(sa.Column('acknowledged_by', sa.Uuid(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('placements', schema=None) as batch_op:
        batch_op.drop_column('acknowledged_by')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_column('import_digest')
    with op.batch_alter_table('payment_reports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payment_reports_case_id'))
        batch_op.drop_index(batch_op.f('ix_payment_reports_agency_id'))
    op.drop_table('payment_reports')
    op.drop_table('placement_batch_cases')
    with op.batch_alter_table('ledger_payments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ledger_payments_paid_on'))
        batch_op.drop_index(batch_op.f('ix_ledger_payments_case_id'))
        batch_op.drop_index(batch_op.f('ix_ledger_payments_account_no'))
    op.drop_table('ledger_payments')
    with op.batch_alter_table('placement_batches', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_placement_batches_status'))
    op.drop_table('placement_batches')
    op.drop_table('import_runs')
