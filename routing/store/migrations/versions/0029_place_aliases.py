"""place aliases: the other names of districts and streets, kept on the administrator's console

Revision ID: 0029_place_aliases
Revises: 0028_sms_consent
Create Date: 2026-12-03 12:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0029_place_aliases'
down_revision = '0028_sms_consent'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'place_alias',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('alias', sa.String(length=32), nullable=False),
        sa.Column('district_id', sa.Integer(), nullable=False),
        sa.Column('street_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['district_id'], ['district.id'], name=op.f('fk_place_alias_district_id_district')),
        sa.ForeignKeyConstraint(['street_id'], ['street.id'], name=op.f('fk_place_alias_street_id_street')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_place_alias')),
        sa.UniqueConstraint('alias', name=op.f('uq_place_alias_alias')),
    )


def downgrade() -> None:
    op.drop_table('place_alias')
