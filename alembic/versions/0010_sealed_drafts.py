"""online applications: the draft sealed with the code, not kept in clear (issue 18, defect 11)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 05:30:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0010'
down_revision: Union[str, None] = '0009'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    # drafts in clear are dropped, not sealed: sealing needs the code, which only the parent has. A parent
    # whose 10-minute code was pending at the upgrade asks for a new one.
    with op.batch_alter_table('verification_code') as batch_op:
        batch_op.add_column(sa.Column('sealed_draft', sa.Text(), nullable=True))
        batch_op.drop_column('draft')


def downgrade() -> None:
    with op.batch_alter_table('verification_code') as batch_op:
        batch_op.add_column(sa.Column('draft', sa.JSON(), nullable=False, server_default='{}'))
        batch_op.drop_column('sealed_draft')
