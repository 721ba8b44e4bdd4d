"""offers: the odds each provider was asked with, what the offer added to the chance, an index on when it
was sent (issue 20)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 08:30:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0015'
down_revision: Union[str, None] = '0014'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

COLUMNS = ('odds_accept', 'odds_answer', 'odds_mu', 'chance_gain')


def upgrade() -> None:
    with op.batch_alter_table('offer') as batch_op:
        for name in COLUMNS:
            batch_op.add_column(sa.Column(name, sa.Float(), nullable=True))
    # every wave reads the centre's offers of the last hours (the day's effect)
    op.create_index('ix_offer_created_at', 'offer', ['created_at'])


def downgrade() -> None:
    op.drop_index('ix_offer_created_at', table_name='offer')
    with op.batch_alter_table('offer') as batch_op:
        for name in reversed(COLUMNS):
            batch_op.drop_column(name)
