"""Fingerprints of tickets for the duplicate search (重复件检索)

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-27 08:15:00.000000
"""
import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'matter_term',
        sa.Column('ticket_id', sa.Integer(), nullable=False),
        sa.Column('term', sa.Integer(), nullable=False),
        sa.Column('weight', sa.Float(), nullable=False),
        sa.Column('raised_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ['ticket_id'], ['ticket.id'], name=op.f('fk_matter_term_ticket_id_ticket'), ondelete='CASCADE'
        ),
        sa.PrimaryKeyConstraint('ticket_id', 'term', name=op.f('pk_matter_term')),
    )
    op.create_index(
        'ix_matter_term_term_raised_at', 'matter_term', ['term', 'raised_at'], unique=False,
        postgresql_include=['ticket_id', 'weight'],
    )


def downgrade() -> None:
    op.drop_index('ix_matter_term_term_raised_at', table_name='matter_term')
    op.drop_table('matter_term')
