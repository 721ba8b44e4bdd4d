"""provider: the indexes a call's reach is read from (issue 23: with 30,000 providers, each intake read the
whole table, JSON columns and all, to find the few thousand whose radius reaches the call): latitude with
the rest of the light read included (an index-only scan on PostgreSQL), and the radius, whose largest
value bounds the band of latitude to read

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 12:15:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op


revision: str = '0017'
down_revision: Union[str, None] = '0016'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_index('ix_provider_reach', 'provider', ['lat'],
                    postgresql_include=['lon', 'radius_km', 'id', 'paused_until', 'phone'],
                    postgresql_where=sa.text('active'), sqlite_where=sa.text('active'))
    op.create_index('ix_provider_radius', 'provider', ['radius_km'], postgresql_where=sa.text('active'),
                    sqlite_where=sa.text('active'))


def downgrade() -> None:
    op.drop_index('ix_provider_radius', table_name='provider')
    op.drop_index('ix_provider_reach', table_name='provider')
