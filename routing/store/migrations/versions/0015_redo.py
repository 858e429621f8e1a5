"""redoing (重办): how many times a ticket was handled again after 不满意, and since when the centre is to decide on it

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-14 09:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.add_column(sa.Column('redo_count', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('redo_review_since', sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.drop_column('redo_review_since')
        batch_op.drop_column('redo_count')
