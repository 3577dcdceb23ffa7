"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-22 03:02:56.700126
"""

from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    
    op.create_table('api_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('key_hash', sa.String(length=128), nullable=False),
    sa.Column('scope', sa.Enum('read', 'write', 'verdict', 'admin', name='key_scope', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_keys')),
    sa.UniqueConstraint('key_hash', name=op.f('uq_api_keys_key_hash'))
    )
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_keys_prefix'), ['prefix'], unique=False)

    op.create_table('claims',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('status', sa.Enum('open', 'resolved_true', 'resolved_false', name='claim_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('confidence', sa.Float(), nullable=True),
    sa.Column('confidence_lower', sa.Float(), nullable=True),
    sa.Column('confidence_upper', sa.Float(), nullable=True),
    sa.Column('log_odds', sa.Float(), nullable=True),
    sa.Column('prior_log_odds', sa.Float(), nullable=True),
    sa.Column('label', sa.String(length=40), nullable=True),
    sa.Column('grade', sa.String(length=8), nullable=True),
    sa.Column('n_reports', sa.Integer(), nullable=False),
    sa.Column('n_clusters', sa.Integer(), nullable=False),
    sa.Column('explanation', sa.JSON(), nullable=True),
    sa.Column('model_version', sa.String(length=64), nullable=True),
    sa.Column('scored_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('confidence IS NULL OR (confidence > 0 AND confidence < 1)', name=op.f('ck_claims_confidence_range')),
    sa.CheckConstraint('confidence IS NULL OR (confidence_lower <= confidence AND confidence <= confidence_upper)', name=op.f('ck_claims_interval_contains_confidence')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_claims')),
    sa.UniqueConstraint('key', name=op.f('uq_claims_key'))
    )
    with op.batch_alter_table('claims', schema=None) as batch_op:
        batch_op.create_index('ix_claims_status_confidence', ['status', 'confidence'], unique=False)
        batch_op.create_index('ix_claims_updated_at', ['updated_at'], unique=False)

    op.create_table('model_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('parameters', sa.JSON(), nullable=False),
    sa.Column('training_summary', sa.JSON(), nullable=True),
    sa.Column('metrics', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_model_versions')),
    sa.UniqueConstraint('version', name=op.f('uq_model_versions_version'))
    )
    op.create_table('outlets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('slug', sa.String(length=200), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=True),
    sa.Column('kind', sa.Enum('wire_agency', 'public_broadcaster', 'state_controlled', 'newspaper', 'independent', 'aggregator', 'social_account', name='outlet_kind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('prior_reliability', sa.Float(), nullable=False),
    sa.Column('prior_rationale', sa.Text(), nullable=False),
    sa.Column('learned_reliability', sa.Float(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('learned_reliability IS NULL OR (learned_reliability > 0 AND learned_reliability < 1)', name=op.f('ck_outlets_learned_reliability_range')),
    sa.CheckConstraint('prior_reliability > 0 AND prior_reliability < 1', name=op.f('ck_outlets_prior_reliability_range')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outlets')),
    sa.UniqueConstraint('name', name=op.f('uq_outlets_name')),
    sa.UniqueConstraint('slug', name=op.f('uq_outlets_slug'))
    )
    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('api_key_id', sa.Integer(), nullable=True),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('action', sa.String(length=100), nullable=False),
    sa.Column('target', sa.String(length=200), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['api_key_id'], ['api_keys.id'], name=op.f('fk_audit_log_api_key_id_api_keys')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_log_recorded_at'), ['recorded_at'], unique=False)

    op.create_table('idempotent_responses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('api_key_id', sa.Integer(), nullable=True),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('request_fingerprint', sa.String(length=64), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('headers', sa.JSON(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['api_key_id'], ['api_keys.id'], name=op.f('fk_idempotent_responses_api_key_id_api_keys')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_idempotent_responses')),
    sa.UniqueConstraint('api_key_id', 'key', name='uq_idempotency_key_per_api_key')
    )
    op.create_table('reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('claim_id', sa.Integer(), nullable=False),
    sa.Column('outlet_id', sa.Integer(), nullable=False),
    sa.Column('stance', sa.Enum('supports', 'denies', 'neutral', name='stance', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('attribution', sa.Enum('named_official', 'official_statement', 'official_source', 'anonymous_diplomat', 'anonymous_source', 'party_spokesperson', 'document', 'eyewitness', 'media_report', 'unattributed', name='attribution', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('source', sa.String(length=500), nullable=True),
    sa.Column('interested_party', sa.Boolean(), nullable=False),
    sa.Column('cites_id', sa.Integer(), nullable=True),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('url', sa.String(length=2000), nullable=True),
    sa.Column('quote', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('retracted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('retraction_reason', sa.Text(), nullable=True),
    sa.CheckConstraint('cites_id IS NULL OR cites_id <> id', name=op.f('ck_reports_no_self_citation')),
    sa.ForeignKeyConstraint(['cites_id'], ['reports.id'], name=op.f('fk_reports_cites_id_reports'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['claim_id'], ['claims.id'], name=op.f('fk_reports_claim_id_claims'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['outlet_id'], ['outlets.id'], name=op.f('fk_reports_outlet_id_outlets'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reports')),
    sa.UniqueConstraint('key', name=op.f('uq_reports_key'))
    )
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.create_index('ix_reports_claim_id', ['claim_id'], unique=False)
        batch_op.create_index('ix_reports_outlet_id', ['outlet_id'], unique=False)

    op.create_table('score_history',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('claim_id', sa.Integer(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('confidence', sa.Float(), nullable=False),
    sa.Column('confidence_lower', sa.Float(), nullable=False),
    sa.Column('confidence_upper', sa.Float(), nullable=False),
    sa.Column('label', sa.String(length=40), nullable=False),
    sa.Column('model_version', sa.String(length=64), nullable=False),
    sa.Column('cause', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['claim_id'], ['claims.id'], name=op.f('fk_score_history_claim_id_claims'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_score_history'))
    )
    with op.batch_alter_table('score_history', schema=None) as batch_op:
        batch_op.create_index('ix_score_history_claim_recorded', ['claim_id', 'recorded_at'], unique=False)

    op.create_table('verdicts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('claim_id', sa.Integer(), nullable=False),
    sa.Column('verdict', sa.Boolean(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('resolved_by', sa.String(length=200), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('model_confidence', sa.Float(), nullable=True),
    sa.ForeignKeyConstraint(['claim_id'], ['claims.id'], name=op.f('fk_verdicts_claim_id_claims'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_verdicts'))
    )
    with op.batch_alter_table('verdicts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_verdicts_claim_id'), ['claim_id'], unique=False)

    


def downgrade() -> None:
    
    with op.batch_alter_table('verdicts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_verdicts_claim_id'))

    op.drop_table('verdicts')
    with op.batch_alter_table('score_history', schema=None) as batch_op:
        batch_op.drop_index('ix_score_history_claim_recorded')

    op.drop_table('score_history')
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.drop_index('ix_reports_outlet_id')
        batch_op.drop_index('ix_reports_claim_id')

    op.drop_table('reports')
    op.drop_table('idempotent_responses')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_log_recorded_at'))

    op.drop_table('audit_log')
    op.drop_table('outlets')
    op.drop_table('model_versions')
    with op.batch_alter_table('claims', schema=None) as batch_op:
        batch_op.drop_index('ix_claims_updated_at')
        batch_op.drop_index('ix_claims_status_confidence')

    op.drop_table('claims')
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_keys_prefix'))

    op.drop_table('api_keys')
    
