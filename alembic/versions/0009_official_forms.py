"""official forms: referral form and site-visit checklist

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 01:54:27.167296
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel.sql.sqltypes


revision: str = '0009'
down_revision: Union[str, None] = '0008'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:

    op.create_table('referral_form',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('official_name', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('official_org', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('official_phone', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('service_kind', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('needs_summary', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('consent_confirmed', sa.Boolean(), nullable=False),
    sa.Column('written_by', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('written_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['request_id'], ['care_request.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('request_id')
    )
    op.create_table('site_visit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('visited_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('visitor', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('checks', sa.JSON(), nullable=False),
    sa.Column('findings', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('written_by', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('written_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['request_id'], ['care_request.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('site_visit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_site_visit_request_id'), ['request_id'], unique=False)




def downgrade() -> None:

    with op.batch_alter_table('site_visit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_site_visit_request_id'))

    op.drop_table('site_visit')
    op.drop_table('referral_form')

