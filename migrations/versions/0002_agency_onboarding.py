"""Agency onboarding: application, checklist and verdicts, documents, inspections, approvals,
contracts' documents, exit register, expiry alerts, due diligence; single-use TOTP steps.

Revision ID: 0002
Revises: 0001
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import portal.db

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('agency_checklist_items',
    sa.Column('code', sa.String(length=50), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('title_zh', sa.String(length=200), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('description_zh', sa.Text(), nullable=True),
    sa.Column('mandatory', sa.Boolean(), nullable=False),
    sa.Column('automatic', sa.String(length=50), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_agency_checklist_items'))
    )
    op.create_table('agency_expiry_alerts',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('agency_id', sa.Uuid(), nullable=False),
    sa.Column('subject', sa.String(length=80), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('expires_on', sa.Date(), nullable=False),
    sa.Column('sequence', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('raised_on', sa.Date(), nullable=False),
    sa.Column('created_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_agency_expiry_alerts_agency_id_agencies')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agency_expiry_alerts')),
    sa.UniqueConstraint('agency_id', 'subject', 'expires_on', 'sequence', name='alert_once')
    )
    with op.batch_alter_table('agency_expiry_alerts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agency_expiry_alerts_agency_id'), ['agency_id'], unique=False)
    op.create_table('agency_fi_clients',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('agency_id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('since', sa.Date(), nullable=False),
    sa.Column('business', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_agency_fi_clients_agency_id_agencies')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agency_fi_clients'))
    )
    with op.batch_alter_table('agency_fi_clients', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agency_fi_clients_agency_id'), ['agency_id'], unique=False)
    op.create_table('agency_approvals',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('agency_id', sa.Uuid(), nullable=False),
    sa.Column('proposal', sa.String(length=20), nullable=False),
    sa.Column('proposal_note', sa.Text(), nullable=False),
    sa.Column('proposed_by', sa.Uuid(), nullable=False),
    sa.Column('proposed_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('decision', sa.String(length=20), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('decided_by', sa.Uuid(), nullable=True),
    sa.Column('decided_at', portal.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_agency_approvals_agency_id_agencies')),
    sa.ForeignKeyConstraint(['decided_by'], ['users.id'], name=op.f('fk_agency_approvals_decided_by_users')),
    sa.ForeignKeyConstraint(['proposed_by'], ['users.id'], name=op.f('fk_agency_approvals_proposed_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agency_approvals'))
    )
    with op.batch_alter_table('agency_approvals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agency_approvals_agency_id'), ['agency_id'], unique=False)
    op.create_table('agency_checklist_verdicts',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('agency_id', sa.Uuid(), nullable=False),
    sa.Column('item_code', sa.String(length=50), nullable=False),
    sa.Column('verdict', sa.String(length=20), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('reviewer_id', sa.Uuid(), nullable=False),
    sa.Column('decided_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('is_current', sa.Boolean(), nullable=False),
    sa.Column('stale_at', portal.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('stale_reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_agency_checklist_verdicts_agency_id_agencies')),
    sa.ForeignKeyConstraint(['item_code'], ['agency_checklist_items.code'], name=op.f('fk_agency_checklist_verdicts_item_code_agency_checklist_items')),
    sa.ForeignKeyConstraint(['reviewer_id'], ['users.id'], name=op.f('fk_agency_checklist_verdicts_reviewer_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agency_checklist_verdicts'))
    )
    with op.batch_alter_table('agency_checklist_verdicts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agency_checklist_verdicts_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index('uq_agency_checklist_verdicts_current', ['agency_id', 'item_code'], unique=True, sqlite_where=sa.text('is_current'), postgresql_where=sa.text('is_current'))
    op.create_table('agency_exit_register',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('number', sa.String(length=30), nullable=False),
    sa.Column('agency_id', sa.Uuid(), nullable=False),
    sa.Column('uscc', sa.String(length=18), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('decision', sa.Text(), nullable=False),
    sa.Column('decided_by', sa.Uuid(), nullable=False),
    sa.Column('exited_on', sa.Date(), nullable=False),
    sa.Column('refused_until', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_agency_exit_register_agency_id_agencies')),
    sa.ForeignKeyConstraint(['decided_by'], ['users.id'], name=op.f('fk_agency_exit_register_decided_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agency_exit_register')),
    sa.UniqueConstraint('number', name=op.f('uq_agency_exit_register_number'))
    )
    with op.batch_alter_table('agency_exit_register', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agency_exit_register_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_agency_exit_register_uscc'), ['uscc'], unique=False)
    op.create_table('agency_inspections',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('agency_id', sa.Uuid(), nullable=False),
    sa.Column('inspected_on', sa.Date(), nullable=False),
    sa.Column('inspectors', sa.JSON(), nullable=False),
    sa.Column('findings', sa.JSON(), nullable=False),
    sa.Column('summary', sa.Text(), nullable=True),
    sa.Column('recorded_by', sa.Uuid(), nullable=False),
    sa.Column('recorded_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_agency_inspections_agency_id_agencies')),
    sa.ForeignKeyConstraint(['recorded_by'], ['users.id'], name=op.f('fk_agency_inspections_recorded_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agency_inspections'))
    )
    with op.batch_alter_table('agency_inspections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agency_inspections_agency_id'), ['agency_id'], unique=False)
    op.create_table('agency_review_participants',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('agency_id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('act', sa.String(length=20), nullable=False),
    sa.Column('at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_agency_review_participants_agency_id_agencies')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_agency_review_participants_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agency_review_participants'))
    )
    with op.batch_alter_table('agency_review_participants', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agency_review_participants_agency_id'), ['agency_id'], unique=False)
    op.create_table('agency_documents',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('agency_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('item_code', sa.String(length=50), nullable=True),
    sa.Column('inspection_id', sa.Uuid(), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('content_type', sa.String(length=50), nullable=False),
    sa.Column('size_bytes', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('content_ct', sa.LargeBinary(), nullable=False),
    sa.Column('version', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('supersedes_id', sa.Uuid(), nullable=True),
    sa.Column('is_current', sa.Boolean(), nullable=False),
    sa.Column('expires_on', sa.Date(), nullable=True),
    sa.Column('uploaded_by', sa.Uuid(), nullable=True),
    sa.Column('uploaded_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_agency_documents_agency_id_agencies')),
    sa.ForeignKeyConstraint(['inspection_id'], ['agency_inspections.id'], name=op.f('fk_agency_documents_inspection_id_agency_inspections')),
    sa.ForeignKeyConstraint(['item_code'], ['agency_checklist_items.code'], name=op.f('fk_agency_documents_item_code_agency_checklist_items')),
    sa.ForeignKeyConstraint(['supersedes_id'], ['agency_documents.id'], name=op.f('fk_agency_documents_supersedes_id_agency_documents')),
    sa.ForeignKeyConstraint(['uploaded_by'], ['users.id'], name=op.f('fk_agency_documents_uploaded_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agency_documents'))
    )
    with op.batch_alter_table('agency_documents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agency_documents_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_agency_documents_sha256'), ['sha256'], unique=False)
    op.create_table('agency_due_diligence',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('agency_id', sa.Uuid(), nullable=False),
    sa.Column('done_on', sa.Date(), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('document_id', sa.Uuid(), nullable=True),
    sa.Column('recorded_by', sa.Uuid(), nullable=False),
    sa.Column('recorded_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_agency_due_diligence_agency_id_agencies')),
    sa.ForeignKeyConstraint(['document_id'], ['agency_documents.id'], name=op.f('fk_agency_due_diligence_document_id_agency_documents')),
    sa.ForeignKeyConstraint(['recorded_by'], ['users.id'], name=op.f('fk_agency_due_diligence_recorded_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agency_due_diligence'))
    )
    with op.batch_alter_table('agency_due_diligence', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agency_due_diligence_agency_id'), ['agency_id'], unique=False)
    with op.batch_alter_table('agencies', schema=None) as batch_op:
        batch_op.add_column(sa.Column('registered_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('registered_address', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('premises', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('licence_scope', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('licence_number', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('licence_expires_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('is_law_firm', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('collection_system', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('contacts', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('submitted_at', portal.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('due_diligence_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('previous_application_id', sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column('public_key', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('public_key_registered_at', portal.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_agencies_previous_application_id_agencies'), 'agencies', ['previous_application_id'], ['id'])
    with op.batch_alter_table('contracts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('signed_document_id', sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column('recorded_by', sa.Uuid(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_contracts_signed_document_id_agency_documents'), 'agency_documents', ['signed_document_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_contracts_recorded_by_users'), 'users', ['recorded_by'], ['id'])
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('mfa_last_step', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('mfa_last_step')
    with op.batch_alter_table('contracts', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_contracts_recorded_by_users'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_contracts_signed_document_id_agency_documents'), type_='foreignkey')
        batch_op.drop_column('recorded_by')
        batch_op.drop_column('signed_document_id')
    with op.batch_alter_table('agencies', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_agencies_previous_application_id_agencies'), type_='foreignkey')
        batch_op.drop_column('public_key_registered_at')
        batch_op.drop_column('public_key')
        batch_op.drop_column('previous_application_id')
        batch_op.drop_column('due_diligence_on')
        batch_op.drop_column('submitted_at')
        batch_op.drop_column('contacts')
        batch_op.drop_column('collection_system')
        batch_op.drop_column('is_law_firm')
        batch_op.drop_column('licence_expires_on')
        batch_op.drop_column('licence_number')
        batch_op.drop_column('licence_scope')
        batch_op.drop_column('premises')
        batch_op.drop_column('registered_address')
        batch_op.drop_column('registered_on')
    with op.batch_alter_table('agency_due_diligence', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agency_due_diligence_agency_id'))
    op.drop_table('agency_due_diligence')
    with op.batch_alter_table('agency_documents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agency_documents_sha256'))
        batch_op.drop_index(batch_op.f('ix_agency_documents_agency_id'))
    op.drop_table('agency_documents')
    with op.batch_alter_table('agency_review_participants', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agency_review_participants_agency_id'))
    op.drop_table('agency_review_participants')
    with op.batch_alter_table('agency_inspections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agency_inspections_agency_id'))
    op.drop_table('agency_inspections')
    with op.batch_alter_table('agency_exit_register', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agency_exit_register_uscc'))
        batch_op.drop_index(batch_op.f('ix_agency_exit_register_agency_id'))
    op.drop_table('agency_exit_register')
    with op.batch_alter_table('agency_checklist_verdicts', schema=None) as batch_op:
        batch_op.drop_index('uq_agency_checklist_verdicts_current', sqlite_where=sa.text('is_current'), postgresql_where=sa.text('is_current'))
        batch_op.drop_index(batch_op.f('ix_agency_checklist_verdicts_agency_id'))
    op.drop_table('agency_checklist_verdicts')
    with op.batch_alter_table('agency_approvals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agency_approvals_agency_id'))
    op.drop_table('agency_approvals')
    with op.batch_alter_table('agency_fi_clients', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agency_fi_clients_agency_id'))
    op.drop_table('agency_fi_clients')
    with op.batch_alter_table('agency_expiry_alerts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agency_expiry_alerts_agency_id'))
    op.drop_table('agency_expiry_alerts')
    op.drop_table('agency_checklist_items')
