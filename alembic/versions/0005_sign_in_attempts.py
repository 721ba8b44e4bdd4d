"""sign-in attempts in the database: the throttle is shared by all workers and survives a restart

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 02:00:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel.sql.sqltypes


revision: str = '0005'
down_revision: Union[str, None] = '0004'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        'sign_in_attempt',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('username', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('client', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('sign_in_attempt', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sign_in_attempt_username'), ['username'], unique=False)
        batch_op.create_index(batch_op.f('ix_sign_in_attempt_client'), ['client'], unique=False)
        batch_op.create_index(batch_op.f('ix_sign_in_attempt_at'), ['at'], unique=False)


def downgrade() -> None:
    op.drop_table('sign_in_attempt')
