"""callbacks (回访): the centre's call back to the resident after an answer

Revision ID: 0019_callbacks
Revises: 0024_knowledge_base
Create Date: 2026-12-03 08:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0019_callbacks'
down_revision = '0024_knowledge_base'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'callback',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('ticket_id', sa.Integer(), nullable=False),
        sa.Column('queued_at', sa.DateTime(), nullable=False),
        sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
        sa.Column('done_at', sa.DateTime(), nullable=True),
        sa.Column('reached', sa.Boolean(), nullable=True),
        sa.Column('solved', sa.Boolean(), nullable=True),
        sa.Column('satisfied', sa.Boolean(), nullable=True),
        sa.Column('said', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id'], ),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('ticket_id'),
    )
    op.create_index('ix_callback_done_at_queued_at', 'callback', ['done_at', 'queued_at'], unique=False)
    op.create_index('ix_callback_judged', 'callback', ['reached', 'done_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_callback_judged', table_name='callback')
    op.drop_index('ix_callback_done_at_queued_at', table_name='callback')
    op.drop_table('callback')
