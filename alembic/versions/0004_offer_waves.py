"""offer waves: care_request.next_wave_at, offer.reply_code

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 01:30:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel.sql.sqltypes


revision: str = '0004'
down_revision: Union[str, None] = '0003'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('care_request', schema=None) as batch_op:
        batch_op.add_column(sa.Column('next_wave_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_care_request_next_wave_at'), ['next_wave_at'], unique=False)
    with op.batch_alter_table('offer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reply_code', sqlmodel.sql.sqltypes.AutoString(length=4), nullable=False,
                                      server_default=''))


def downgrade() -> None:
    with op.batch_alter_table('offer', schema=None) as batch_op:
        batch_op.drop_column('reply_code')
    with op.batch_alter_table('care_request', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_care_request_next_wave_at'))
        batch_op.drop_column('next_wave_at')
