"""workflow states: waiting, merged, invalid; extension, pause and rating

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 21:39:33.342254
"""
import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.create_index('ix_message_channel_sender_received_at', ['channel', 'sender', 'received_at'], unique=False)
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.add_column(sa.Column('closed_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('rating', sa.String(length=24), nullable=True))
        batch_op.add_column(sa.Column('rated_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('paused_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('extension_until', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('extension_reason', sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column('merged_into_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_ticket_merged_into_id_ticket'), 'ticket', ['merged_into_id'], ['id'])



def downgrade() -> None:
    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.drop_index('ix_message_channel_sender_received_at')
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_ticket_merged_into_id_ticket'), type_='foreignkey')
        batch_op.drop_column('merged_into_id')
        batch_op.drop_column('extension_reason')
        batch_op.drop_column('extension_until')
        batch_op.drop_column('paused_at')
        batch_op.drop_column('rated_at')
        batch_op.drop_column('rating')
        batch_op.drop_column('closed_at')

