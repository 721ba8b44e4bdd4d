"""care platform: online applications, provider records, follow-up cases

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 01:46:19.296759
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel.sql.sqltypes


revision: str = '0008'
down_revision: Union[str, None] = '0007'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:

    op.create_table('adjustment_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('new_end_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_by', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
    sa.ForeignKeyConstraint(['provider_id'], ['provider.id'], ),
    sa.ForeignKeyConstraint(['request_id'], ['care_request.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('adjustment_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_adjustment_request_request_id'), ['request_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_adjustment_request_status'), ['status'], unique=False)

    op.create_table('care_visit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.Column('checked_in_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('code_tries', sa.Integer(), nullable=False),
    sa.Column('checked_out_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('result', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
    sa.Column('result_note', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('result_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['provider_id'], ['provider.id'], ),
    sa.ForeignKeyConstraint(['request_id'], ['care_request.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('request_id')
    )
    with op.batch_alter_table('care_visit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_care_visit_provider_id'), ['provider_id'], unique=False)

    op.create_table('follow_up_case',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_by', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.ForeignKeyConstraint(['request_id'], ['care_request.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('request_id', 'source')
    )
    with op.batch_alter_table('follow_up_case', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_follow_up_case_due_at'), ['due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_follow_up_case_request_id'), ['request_id'], unique=False)

    op.create_table('service_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('start_time', sqlmodel.sql.sqltypes.AutoString(length=5), nullable=False),
    sa.Column('end_time', sqlmodel.sql.sqltypes.AutoString(length=5), nullable=False),
    sa.Column('activities', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('meals', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('incident', sa.Boolean(), nullable=False),
    sa.Column('incident_note', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('notes', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('written_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['provider_id'], ['provider.id'], ),
    sa.ForeignKeyConstraint(['request_id'], ['care_request.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('request_id', 'day')
    )
    with op.batch_alter_table('service_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_service_log_request_id'), ['request_id'], unique=False)

    op.create_table('verification_code',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('phone_hash', sa.String(length=64), nullable=False),
    sa.Column('client', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('code_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('draft', sa.JSON(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('request_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['request_id'], ['care_request.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('verification_code', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_verification_code_client'), ['client'], unique=False)
        batch_op.create_index(batch_op.f('ix_verification_code_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_verification_code_phone_hash'), ['phone_hash'], unique=False)

    op.create_table('health_record',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('service_log_id', sa.Integer(), nullable=False),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('written_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['request_id'], ['care_request.id'], ),
    sa.ForeignKeyConstraint(['service_log_id'], ['service_log.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('health_record', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_health_record_request_id'), ['request_id'], unique=False)




def downgrade() -> None:

    with op.batch_alter_table('health_record', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_health_record_request_id'))

    op.drop_table('health_record')
    with op.batch_alter_table('verification_code', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_verification_code_phone_hash'))
        batch_op.drop_index(batch_op.f('ix_verification_code_created_at'))
        batch_op.drop_index(batch_op.f('ix_verification_code_client'))

    op.drop_table('verification_code')
    with op.batch_alter_table('service_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_service_log_request_id'))

    op.drop_table('service_log')
    with op.batch_alter_table('follow_up_case', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_follow_up_case_request_id'))
        batch_op.drop_index(batch_op.f('ix_follow_up_case_due_at'))

    op.drop_table('follow_up_case')
    with op.batch_alter_table('care_visit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_care_visit_provider_id'))

    op.drop_table('care_visit')
    with op.batch_alter_table('adjustment_request', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_adjustment_request_status'))
        batch_op.drop_index(batch_op.f('ix_adjustment_request_request_id'))

    op.drop_table('adjustment_request')

