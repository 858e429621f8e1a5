"""retention: when a ticket's personal data was removed (个人信息已删除)

Revision ID: 0033_retention
Revises: 0030_h5
Create Date: 2026-12-04 09:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0033_retention'
down_revision = '0035_retraining'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.add_column(sa.Column('anonymised_at', sa.DateTime(), nullable=True))
        batch_op.create_index(
            'ix_ticket_anonymised_at_status_closed_at', ['anonymised_at', 'status', 'closed_at'], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.drop_index('ix_ticket_anonymised_at_status_closed_at')
        batch_op.drop_column('anonymised_at')
