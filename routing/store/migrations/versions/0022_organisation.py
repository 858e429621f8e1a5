"""organisation: an agency's short name and kind

Revision ID: 0022_organisation
Revises: 0025_second_factor
Create Date: 2026-12-03 08:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0022_organisation'
down_revision = '0025_second_factor'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('agency', schema=None) as batch_op:
        batch_op.add_column(sa.Column('short_name', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('kind', sa.String(length=20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('agency', schema=None) as batch_op:
        batch_op.drop_column('kind')
        batch_op.drop_column('short_name')
