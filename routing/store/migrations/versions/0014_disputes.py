"""assignment disputes (派单争议): the ruling's deadline, a rejected dispute, a district's fallback agency

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-10 09:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ruling_by', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('dispute_rejected', sa.Boolean(), server_default=sa.false(), nullable=False))
    with op.batch_alter_table('district', schema=None) as batch_op:
        batch_op.add_column(sa.Column('fallback_agency_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_district_fallback_agency_id_agency'), 'agency', ['fallback_agency_id'], ['id'],
            ondelete='SET NULL',
        )


def downgrade() -> None:
    with op.batch_alter_table('district', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_district_fallback_agency_id_agency'), type_='foreignkey')
        batch_op.drop_column('fallback_agency_id')
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.drop_column('dispute_rejected')
        batch_op.drop_column('ruling_by')
