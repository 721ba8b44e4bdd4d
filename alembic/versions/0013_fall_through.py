"""care requests: when care fell through and when a no-show was flagged (issue 19)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 06:30:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0013'
down_revision: Union[str, None] = '0012'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('care_request') as batch_op:
        batch_op.add_column(sa.Column('fell_through_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('no_show_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('care_request') as batch_op:
        batch_op.drop_column('no_show_at')
        batch_op.drop_column('fell_through_at')
