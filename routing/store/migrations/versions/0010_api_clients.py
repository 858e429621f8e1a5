"""API clients with their own keys (接口调用方)

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27 02:40:00.000000
"""
import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'api_client',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('key_hash', sa.String(length=64), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_api_client')),
        sa.UniqueConstraint('key_hash', name=op.f('uq_api_client_key_hash')),
        sa.UniqueConstraint('name', name=op.f('uq_api_client_name')),
    )


def downgrade() -> None:
    op.drop_table('api_client')
