"""routing rules: streets, keywords, assisting agencies; policy months; config audit

Revision ID: 0005
Revises: 0002
Create Date: 2026-11-26 23:15:05.334577
"""
import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('config_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('subject', sa.String(length=16), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('before', sa.JSON(), nullable=True),
    sa.Column('after', sa.JSON(), nullable=True),
    sa.Column('summary', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['user_account.id'], name=op.f('fk_config_change_actor_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_config_change'))
    )
    with op.batch_alter_table('config_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_config_change_at'), ['at'], unique=False)

    op.create_table('ticket_assist',
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_ticket_assist_agency_id_agency')),
    sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id'], name=op.f('fk_ticket_assist_ticket_id_ticket'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('ticket_id', 'agency_id', name=op.f('pk_ticket_assist'))
    )
    op.create_table('routing_rule_assist',
    sa.Column('rule_id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_routing_rule_assist_agency_id_agency')),
    sa.ForeignKeyConstraint(['rule_id'], ['routing_rule.id'], name=op.f('fk_routing_rule_assist_rule_id_routing_rule'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('rule_id', 'agency_id', name=op.f('pk_routing_rule_assist'))
    )
    with op.batch_alter_table('deadline_policy', schema=None) as batch_op:
        batch_op.add_column(sa.Column('answer_months', sa.Integer(), nullable=True))

    with op.batch_alter_table('routing_rule', schema=None) as batch_op:
        batch_op.add_column(sa.Column('street_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('keywords', sa.String(length=500), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('note', sa.String(length=500), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('updated_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('updated_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('updated_by', sa.String(length=100), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_routing_rule_street_id_street'), 'street', ['street_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_routing_rule_updated_by_id_user_account'), 'user_account', ['updated_by_id'], ['id'])

    # A deputy's suggestion is answered within three months of assignment (by
    # law), not 60 working days: move the shipped default, leave an edited one.
    op.execute(
        "UPDATE deadline_policy SET answer_months = 3, answer_days = 0 "
        "WHERE kind = 'deputy_suggestion' AND urgency = 'normal' AND answer_days = 60 AND answer_hours IS NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table('routing_rule', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_routing_rule_updated_by_id_user_account'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_routing_rule_street_id_street'), type_='foreignkey')
        batch_op.drop_column('updated_by')
        batch_op.drop_column('updated_by_id')
        batch_op.drop_column('updated_at')
        batch_op.drop_column('note')
        batch_op.drop_column('keywords')
        batch_op.drop_column('street_id')

    op.execute(
        "UPDATE deadline_policy SET answer_days = 60 "
        "WHERE kind = 'deputy_suggestion' AND urgency = 'normal' AND answer_months = 3"
    )
    with op.batch_alter_table('deadline_policy', schema=None) as batch_op:
        batch_op.drop_column('answer_months')

    op.drop_table('routing_rule_assist')
    op.drop_table('ticket_assist')
    with op.batch_alter_table('config_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_config_change_at'))

    op.drop_table('config_change')
