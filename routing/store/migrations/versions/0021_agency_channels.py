"""agency channels: how each agency's staff are reached outside Tingjian, and the record of messages sent to staff

Revision ID: 0021_agency_channels
Revises: 0018_answer_review
Create Date: 2026-12-03 12:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0021_agency_channels'
down_revision = '0018_answer_review'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'agency_channel',
        sa.Column('agency_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('address', sa.String(length=500), nullable=False),
        sa.Column('secret', sa.String(length=200), server_default='', nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_agency_channel_agency_id_agency')),
        sa.PrimaryKeyConstraint('agency_id', name=op.f('pk_agency_channel')),
    )
    op.create_table(
        'staff_message',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('occasion', sa.String(length=160), nullable=False),
        sa.Column('template', sa.String(length=32), nullable=False),
        sa.Column('agency_id', sa.Integer(), nullable=True),
        sa.Column('channel', sa.String(length=32), nullable=False),
        sa.Column('recipient', sa.String(length=80), nullable=False),
        sa.Column('result', sa.String(length=16), nullable=False),
        sa.Column('error', sa.Text(), nullable=True),
        sa.Column('ticket_count', sa.Integer(), nullable=False),
        sa.Column('detail', sa.JSON(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_staff_message_agency_id_agency')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_message')),
        sa.UniqueConstraint('occasion', name=op.f('uq_staff_message_occasion')),
    )
    op.create_index(op.f('ix_staff_message_agency_id'), 'staff_message', ['agency_id'], unique=False)
    op.create_index(op.f('ix_staff_message_created_at'), 'staff_message', ['created_at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_staff_message_created_at'), table_name='staff_message')
    op.drop_index(op.f('ix_staff_message_agency_id'), table_name='staff_message')
    op.drop_table('staff_message')
    op.drop_table('agency_channel')
