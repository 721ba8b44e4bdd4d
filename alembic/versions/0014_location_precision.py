"""care requests: how precise the request's point is (issue 22): a street address, coordinates, or the
offline 동 / 구 / 시·군 point the place names ("동 단위 위치")

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 08:30:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '0014'
down_revision: Union[str, None] = '0013'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('care_request') as batch_op:
        batch_op.add_column(sa.Column('location_precision', sqlmodel.sql.sqltypes.AutoString(length=12),
                                      nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('care_request') as batch_op:
        batch_op.drop_column('location_precision')
