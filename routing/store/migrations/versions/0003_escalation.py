"""escalation: reminders, notices, supervisors, daily digests

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 23:14:23.644910
"""
import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('agency_digest',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('new_tickets', sa.Integer(), nullable=False),
    sa.Column('due_soon', sa.Integer(), nullable=False),
    sa.Column('overdue', sa.Integer(), nullable=False),
    sa.Column('reminders', sa.Integer(), nullable=False),
    sa.Column('notices', sa.Integer(), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_agency_digest_agency_id_agency')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agency_digest')),
    sa.UniqueConstraint('agency_id', 'day', name=op.f('uq_agency_digest_agency_id_day'))
    )
    op.create_table('escalation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('reminder', 'notice', name='escalationkind', native_enum=False, length=32), nullable=False),
    sa.Column('deadline', sa.String(length=16), nullable=False),
    sa.Column('due_at', sa.DateTime(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('recipient_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('text', sa.String(length=500), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_escalation_agency_id_agency')),
    sa.ForeignKeyConstraint(['recipient_id'], ['agency.id'], name=op.f('fk_escalation_recipient_id_agency')),
    sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id'], name=op.f('fk_escalation_ticket_id_ticket')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_escalation')),
    sa.UniqueConstraint('ticket_id', 'kind', 'deadline', 'due_at', name=op.f('uq_escalation_ticket_id_kind_deadline_due_at'))
    )
    with op.batch_alter_table('escalation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_escalation_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_escalation_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_escalation_recipient_id'), ['recipient_id'], unique=False)

    with op.batch_alter_table('agency', schema=None) as batch_op:
        batch_op.add_column(sa.Column('supervisor_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_agency_supervisor_id_agency'), 'agency', ['supervisor_id'], ['id'])

    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.create_index('ix_ticket_status_accept_by', ['status', 'accept_by'], unique=False)
        batch_op.create_index('ix_ticket_status_answer_by', ['status', 'answer_by'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.drop_index('ix_ticket_status_answer_by')
        batch_op.drop_index('ix_ticket_status_accept_by')

    with op.batch_alter_table('agency', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_agency_supervisor_id_agency'), type_='foreignkey')
        batch_op.drop_column('supervisor_id')

    with op.batch_alter_table('escalation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_escalation_recipient_id'))
        batch_op.drop_index(batch_op.f('ix_escalation_created_at'))
        batch_op.drop_index(batch_op.f('ix_escalation_agency_id'))

    op.drop_table('escalation')
    op.drop_table('agency_digest')
