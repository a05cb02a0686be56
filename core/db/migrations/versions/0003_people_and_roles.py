"""people and roles: who signed in, keyed by (iss, sub), and the roles an admin granted them

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 05:35:00.000000
"""

from __future__ import annotations

from typing import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('person',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('iss', sa.String(length=500), nullable=False),
    sa.Column('sub', sa.String(length=255), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('first_seen', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_person')),
    sa.UniqueConstraint('iss', 'sub', name=op.f('uq_person_iss_sub')),
    sa.UniqueConstraint('key', name=op.f('uq_person_key'))
    )
    op.create_table('role_grant',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.Column('granted_by', sa.String(length=200), nullable=False),
    sa.Column('granted_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("role IN ('crm', 'merchandiser', 'stylist', 'analyst', 'admin')", name=op.f('ck_role_grant_role')),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_role_grant_person_id_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_role_grant')),
    sa.UniqueConstraint('person_id', 'role', name=op.f('uq_role_grant_person_id_role'))
    )
    op.create_index(op.f('ix_role_grant_person_id'), 'role_grant', ['person_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_role_grant_person_id'), table_name='role_grant')
    op.drop_table('role_grant')
    op.drop_table('person')
