"""request keys and 'confirm': a resubmitted training form makes one job; a reviewer can say the catalogue is right

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07 12:50:00
"""

from __future__ import annotations

from typing import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD = "decision IN ('accept', 'correct', 'skip', 'undo')"
NEW = "decision IN ('accept', 'correct', 'skip', 'undo', 'confirm')"


def upgrade() -> None:
    with op.batch_alter_table('job', schema=None) as batch_op:
        batch_op.add_column(sa.Column('request_key', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_job_request_key'), ['request_key'])
    with op.batch_alter_table('attribute_review', schema=None) as batch_op:
        batch_op.drop_constraint('decision', type_='check')
        batch_op.create_check_constraint('decision', NEW)


def downgrade() -> None:
    with op.batch_alter_table('attribute_review', schema=None) as batch_op:
        batch_op.drop_constraint('decision', type_='check')
        batch_op.create_check_constraint('decision', OLD)
    with op.batch_alter_table('job', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_job_request_key'), type_='unique')
        batch_op.drop_column('request_key')
