"""delivery-status callbacks that arrive before the sid is recorded: early_status

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 02:30:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel.sql.sqltypes


revision: str = '0006'
down_revision: Union[str, None] = '0005'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        'early_status',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('sid', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column('error_code', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True),
        sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('early_status', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_early_status_sid'), ['sid'], unique=False)


def downgrade() -> None:
    op.drop_table('early_status')
