"""The knowledge base (知识库): articles answering consultations, with their fingerprints

Revision ID: 0024_knowledge_base
Revises: 0023_stored_files
Create Date: 2026-12-03 07:20:00.000000
"""
import sqlalchemy as sa
from alembic import op

revision = '0024_knowledge_base'
down_revision = '0023_stored_files'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'knowledge_article',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('agency_id', sa.Integer(), nullable=False),
        sa.Column('topic', sa.String(length=64), nullable=True),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('citation', sa.String(length=500), nullable=True),
        sa.Column('valid_until', sa.Date(), nullable=True),
        sa.Column('active', sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column('source_ticket_id', sa.Integer(), nullable=True),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_by_id', sa.Integer(), nullable=True),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_knowledge_article_agency_id_agency')),
        sa.ForeignKeyConstraint(
            ['source_ticket_id'], ['ticket.id'], name=op.f('fk_knowledge_article_source_ticket_id_ticket')
        ),
        sa.ForeignKeyConstraint(
            ['created_by_id'], ['user_account.id'], name=op.f('fk_knowledge_article_created_by_id_user_account')
        ),
        sa.ForeignKeyConstraint(
            ['updated_by_id'], ['user_account.id'], name=op.f('fk_knowledge_article_updated_by_id_user_account')
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_knowledge_article')),
    )
    op.create_index(op.f('ix_knowledge_article_agency_id'), 'knowledge_article', ['agency_id'], unique=False)
    op.create_table(
        'knowledge_term',
        sa.Column('article_id', sa.Integer(), nullable=False),
        sa.Column('term', sa.Integer(), nullable=False),
        sa.Column('weight', sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ['article_id'], ['knowledge_article.id'], name=op.f('fk_knowledge_term_article_id_knowledge_article'),
            ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('article_id', 'term', name=op.f('pk_knowledge_term')),
    )
    op.create_index(op.f('ix_knowledge_term_term'), 'knowledge_term', ['term'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_knowledge_term_term'), table_name='knowledge_term')
    op.drop_table('knowledge_term')
    op.drop_index(op.f('ix_knowledge_article_agency_id'), table_name='knowledge_article')
    op.drop_table('knowledge_article')
