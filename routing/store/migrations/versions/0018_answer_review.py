"""answer review (审核办结): review rules and answer templates

Revision ID: 0018_answer_review
Revises: 0017
Create Date: 2026-12-03 07:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0018_answer_review'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'review_rule',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.Enum('consultation', 'help', 'suggestion', 'complaint', 'deputy_suggestion',
                                  name='kind', native_enum=False, length=32), nullable=True),
        sa.Column('agency_id', sa.Integer(), nullable=True),
        sa.Column('review', sa.Boolean(), nullable=False),
        sa.Column('require_signer', sa.Boolean(), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], ),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_table(
        'answer_template',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('agency_id', sa.Integer(), nullable=False),
        sa.Column('title', sa.String(length=100), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('citation', sa.String(length=500), nullable=True),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], ),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('answer_template', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_answer_template_agency_id'), ['agency_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('answer_template', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_answer_template_agency_id'))
    op.drop_table('answer_template')
    op.drop_table('review_rule')
