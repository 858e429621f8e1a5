"""deputies' notices in the portal (代表通知)

Revision ID: 0009
Revises: 0007
Create Date: 2026-11-27 00:40:00.000000
"""
import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'deputy_notice',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('deputy_id', sa.Integer(), nullable=False),
        sa.Column('ticket_id', sa.Integer(), nullable=False),
        sa.Column('event', sa.String(length=16), nullable=False),
        sa.Column('stamp', sa.String(length=64), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('read_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['deputy_id'], ['deputy.id'], name=op.f('fk_deputy_notice_deputy_id_deputy')),
        sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id'], name=op.f('fk_deputy_notice_ticket_id_ticket')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_deputy_notice')),
        sa.UniqueConstraint('deputy_id', 'ticket_id', 'event', 'stamp', name=op.f('uq_deputy_notice_deputy_id_ticket_id_event_stamp')),
    )
    with op.batch_alter_table('deputy_notice', schema=None) as batch_op:
        batch_op.create_index('ix_deputy_notice_deputy_id_read_at', ['deputy_id', 'read_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_deputy_notice_ticket_id'), ['ticket_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('deputy_notice', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_deputy_notice_ticket_id'))
        batch_op.drop_index('ix_deputy_notice_deputy_id_read_at')
    op.drop_table('deputy_notice')
