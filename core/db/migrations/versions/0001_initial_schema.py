"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-25 02:16:57.494962

Written by autogenerate, then reviewed: portable DateTime(timezone=True) instead of the
UTCDateTime decorator, plain create_index on both dialects, and triggers that make audit_log append-only.
"""

from __future__ import annotations

from typing import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('attribute_review',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workspace', sa.String(length=200), nullable=False),
    sa.Column('item_id', sa.String(length=200), nullable=False),
    sa.Column('attribute', sa.String(length=100), nullable=False),
    sa.Column('decision', sa.String(length=16), nullable=False),
    sa.Column('value', sa.Text(), nullable=True),
    sa.Column('predicted', sa.Text(), nullable=True),
    sa.Column('probability', sa.Double(), nullable=True),
    sa.Column('model_version', sa.String(length=100), nullable=True),
    sa.Column('reviewer', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('request_id', sa.String(length=64), nullable=False),
    sa.CheckConstraint("decision IN ('accept', 'correct', 'skip', 'undo')", name=op.f('ck_attribute_review_decision')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attribute_review')),
    sa.UniqueConstraint('request_id', name=op.f('uq_attribute_review_request_id'))
    )
    op.create_index(op.f('ix_attribute_review_workspace_item_attribute'), 'attribute_review', ['workspace', 'item_id', 'attribute'], unique=False)

    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('who', sa.String(length=200), nullable=False),
    sa.Column('action', sa.String(length=100), nullable=False),
    sa.Column('workspace', sa.String(length=200), nullable=False),
    sa.Column('target', sa.Text(), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    op.create_index(op.f('ix_audit_log_workspace_at'), 'audit_log', ['workspace', 'at'], unique=False)

    op.create_table('campaign',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workspace', sa.String(length=200), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('model_version', sa.String(length=100), nullable=True),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=200), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaign')),
    sa.UniqueConstraint('workspace', 'name', name=op.f('uq_campaign_workspace_name'))
    )
    op.create_index(op.f('ix_campaign_workspace'), 'campaign', ['workspace'], unique=False)

    op.create_table('catalogue_value',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workspace', sa.String(length=200), nullable=False),
    sa.Column('item_id', sa.String(length=200), nullable=False),
    sa.Column('attribute', sa.String(length=100), nullable=False),
    sa.Column('value', sa.Text(), nullable=True),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('updated_by', sa.String(length=200), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_catalogue_value')),
    sa.UniqueConstraint('workspace', 'item_id', 'attribute', name=op.f('uq_catalogue_value_workspace_item_id_attribute'))
    )
    op.create_table('import_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workspace', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.Column('problems', sa.Integer(), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('started_by', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_run'))
    )
    op.create_index(op.f('ix_import_run_workspace'), 'import_run', ['workspace'], unique=False)

    op.create_table('job',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workspace', sa.String(length=200), nullable=False),
    sa.Column('workspace_path', sa.Text(), nullable=False),
    sa.Column('kind', sa.String(length=64), nullable=False),
    sa.Column('target', sa.String(length=300), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('progress', sa.Double(), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('metrics', sa.JSON(), nullable=False),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('cancel_requested', sa.Boolean(), nullable=False),
    sa.Column('pid', sa.Integer(), nullable=True),
    sa.Column('submitted_by', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('queued', 'running', 'done', 'failed', 'cancelled')", name=op.f('ck_job_status')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job'))
    )
    op.create_index(op.f('ix_job_workspace_kind_status'), 'job', ['workspace', 'kind', 'status'], unique=False)

    op.create_table('model_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workspace', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=64), nullable=False),
    sa.Column('version', sa.String(length=100), nullable=False),
    sa.Column('metrics', sa.JSON(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('activated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('activated_by', sa.String(length=200), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_model_version')),
    sa.UniqueConstraint('workspace', 'kind', 'version', name=op.f('uq_model_version_workspace_kind_version'))
    )
    op.create_index(op.f('ix_model_version_workspace'), 'model_version', ['workspace'], unique=False)

    op.create_table('pair_candidate',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workspace', sa.String(length=200), nullable=False),
    sa.Column('item_a', sa.String(length=200), nullable=False),
    sa.Column('item_b', sa.String(length=200), nullable=False),
    sa.Column('score', sa.Double(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('labels_needed', sa.Integer(), nullable=False),
    sa.Column('labels_count', sa.Integer(), nullable=False),
    sa.Column('claimed_by', sa.String(length=200), nullable=True),
    sa.Column('claim_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('open', 'claimed', 'done', 'skipped')", name=op.f('ck_pair_candidate_status')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pair_candidate')),
    sa.UniqueConstraint('workspace', 'item_a', 'item_b', name=op.f('uq_pair_candidate_workspace_item_a_item_b'))
    )
    op.create_index(op.f('ix_pair_candidate_workspace_status'), 'pair_candidate', ['workspace', 'status'], unique=False)

    op.create_table('campaign_member',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.String(length=200), nullable=False),
    sa.Column('group', sa.String(length=16), nullable=False),
    sa.Column('score', sa.Double(), nullable=True),
    sa.Column('rank', sa.Integer(), nullable=True),
    sa.CheckConstraint('"group" IN (\'target\', \'control\')', name=op.f('ck_campaign_member_group')),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], name=op.f('fk_campaign_member_campaign_id_campaign'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaign_member')),
    sa.UniqueConstraint('campaign_id', 'user_id', name=op.f('uq_campaign_member_campaign_id_user_id'))
    )
    op.create_index(op.f('ix_campaign_member_campaign_id'), 'campaign_member', ['campaign_id'], unique=False)

    op.create_table('campaign_outcome',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.String(length=200), nullable=False),
    sa.Column('opened', sa.Boolean(), nullable=False),
    sa.Column('clicked', sa.Boolean(), nullable=False),
    sa.Column('bought', sa.Boolean(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], name=op.f('fk_campaign_outcome_campaign_id_campaign'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaign_outcome')),
    sa.UniqueConstraint('campaign_id', 'user_id', name=op.f('uq_campaign_outcome_campaign_id_user_id'))
    )
    op.create_index(op.f('ix_campaign_outcome_campaign_id'), 'campaign_outcome', ['campaign_id'], unique=False)

    op.create_table('pair_label',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pair_id', sa.Integer(), nullable=False),
    sa.Column('labeller', sa.String(length=200), nullable=False),
    sa.Column('label', sa.String(length=16), nullable=False),
    sa.Column('request_id', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("label IN ('yes', 'no', 'unsure')", name=op.f('ck_pair_label_label')),
    sa.ForeignKeyConstraint(['pair_id'], ['pair_candidate.id'], name=op.f('fk_pair_label_pair_id_pair_candidate'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pair_label')),
    sa.UniqueConstraint('pair_id', 'labeller', name=op.f('uq_pair_label_pair_id_labeller')),
    sa.UniqueConstraint('request_id', name=op.f('uq_pair_label_request_id'))
    )
    op.create_index(op.f('ix_pair_label_pair_id'), 'pair_label', ['pair_id'], unique=False)



    _audit_log_append_only()


def _audit_log_append_only() -> None:
    # The audit log is evidence: the database itself refuses to change or delete a row.
    if op.get_bind().dialect.name == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_log_no_{verb.lower()} BEFORE {verb} ON audit_log "
                "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
            )
    elif op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$"
        )
        op.execute(
            "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
            "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
    op.drop_index(op.f('ix_pair_label_pair_id'), table_name='pair_label')

    op.drop_table('pair_label')
    op.drop_index(op.f('ix_campaign_outcome_campaign_id'), table_name='campaign_outcome')

    op.drop_table('campaign_outcome')
    op.drop_index(op.f('ix_campaign_member_campaign_id'), table_name='campaign_member')

    op.drop_table('campaign_member')
    op.drop_index(op.f('ix_pair_candidate_workspace_status'), table_name='pair_candidate')

    op.drop_table('pair_candidate')
    op.drop_index(op.f('ix_model_version_workspace'), table_name='model_version')

    op.drop_table('model_version')
    op.drop_index(op.f('ix_job_workspace_kind_status'), table_name='job')

    op.drop_table('job')
    op.drop_index(op.f('ix_import_run_workspace'), table_name='import_run')

    op.drop_table('import_run')
    op.drop_table('catalogue_value')
    op.drop_index(op.f('ix_campaign_workspace'), table_name='campaign')

    op.drop_table('campaign')
    op.drop_index(op.f('ix_audit_log_workspace_at'), table_name='audit_log')

    op.drop_table('audit_log')
    op.drop_index(op.f('ix_attribute_review_workspace_item_attribute'), table_name='attribute_review')

    op.drop_table('attribute_review')
