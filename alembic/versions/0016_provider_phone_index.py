"""provider: an index on the phone, which every SMS a provider sends is looked up by (issue 23: with
30,000 providers, each inbound text read the whole table)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 09:20:00
"""
from typing import Sequence, Union

from alembic import op


revision: str = '0016'
down_revision: Union[str, None] = '0015'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_index('ix_provider_phone', 'provider', ['phone'])


def downgrade() -> None:
    op.drop_index('ix_provider_phone', table_name='provider')
