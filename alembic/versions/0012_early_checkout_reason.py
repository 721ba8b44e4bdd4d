"""care visits: the reason a provider gives for checking out before the booked end

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-08 06:00:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '0012'
down_revision: Union[str, None] = '0011'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('care_visit') as batch_op:
        batch_op.add_column(sa.Column('checkout_reason', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False,
                                      server_default=''))


def downgrade() -> None:
    with op.batch_alter_table('care_visit') as batch_op:
        batch_op.drop_column('checkout_reason')
