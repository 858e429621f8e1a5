"""stored files: models and other files every machine shares, in the database

Revision ID: 0023_stored_files
Revises: 0021_agency_channels
Create Date: 2026-12-03 08:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0023_stored_files'
down_revision = '0021_agency_channels'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'stored_file',
        sa.Column('key', sa.String(length=400), nullable=False),
        sa.Column('content_type', sa.String(length=100), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_stored_file')),
    )


def downgrade() -> None:
    op.drop_table('stored_file')
