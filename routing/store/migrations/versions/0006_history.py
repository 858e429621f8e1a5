"""historical tickets imported from a city's own records, for the agency model

Revision ID: 0006
Revises: 0002
Create Date: 2026-11-26 23:30:00.000000
"""
import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'historical_ticket',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('digest', sa.String(length=64), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('agency_id', sa.Integer(), nullable=False),
        sa.Column('topic', sa.String(length=80), nullable=True),
        sa.Column('number', sa.String(length=64), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=True),
        sa.Column('source', sa.String(length=200), nullable=False),
        sa.Column('imported_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_historical_ticket_agency_id_agency')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_historical_ticket')),
        sa.UniqueConstraint('digest', name=op.f('uq_historical_ticket_digest')),
    )
    with op.batch_alter_table('historical_ticket', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_historical_ticket_agency_id'), ['agency_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('historical_ticket', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_historical_ticket_agency_id'))
    op.drop_table('historical_ticket')
