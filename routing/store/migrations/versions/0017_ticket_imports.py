"""hotline exports imported as tickets: one row per upload, with its file

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03 07:20:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ticket_import',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('file_name', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.Column('figures', sa.JSON(), nullable=False),
    sa.Column('error', sa.String(length=500), nullable=True),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_ticket_import_created_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ticket_import'))
    )
    with op.batch_alter_table('ticket_import', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ticket_import_created_at'), ['created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('ticket_import', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ticket_import_created_at'))
    op.drop_table('ticket_import')
