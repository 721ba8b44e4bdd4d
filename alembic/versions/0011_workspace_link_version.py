"""providers: the workspace link's version, bumped by each link sent so the older ones stop opening

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 06:00:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0011'
down_revision: Union[str, None] = '0010'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('provider') as batch_op:
        batch_op.add_column(sa.Column('workspace_link_version', sa.Integer(), nullable=False, server_default='0'))


def downgrade() -> None:
    with op.batch_alter_table('provider') as batch_op:
        batch_op.drop_column('workspace_link_version')
