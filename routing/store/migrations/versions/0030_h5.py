"""accounts: a WeCom / DingTalk user id for staff notices

Revision ID: 0030_h5
Revises: 0032_privacy
Create Date: 2026-12-03 11:40:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0030_h5'
down_revision = '0032_privacy'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('im_user_id', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_column('im_user_id')
