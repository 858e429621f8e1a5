"""accounts: the permission to export residents' contact data

Revision ID: 0034_export_permission
Revises: 0030_h5
Create Date: 2026-12-04 19:10:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0034_export_permission'
down_revision = '0033_retention'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('may_export_contact', sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_column('may_export_contact')
