"""scorecard indexes: tickets by agency and assignment time, events by step and time; the event's agency

Revision ID: 0004
Revises: 0002
Create Date: 2026-11-26 23:30:00.000000
"""
import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        # The composite indexes start with these columns and serve their lookups too.
        batch_op.drop_index('ix_ticket_agency_id')
        batch_op.drop_index('ix_ticket_status')
        batch_op.create_index('ix_ticket_agency_id_assigned_at', ['agency_id', 'assigned_at'], unique=False)
        batch_op.create_index('ix_ticket_status_answered_at', ['status', 'answered_at'], unique=False)
    with op.batch_alter_table('ticket_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('agency_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_ticket_event_agency_id_agency'), 'agency', ['agency_id'], ['id'])
        batch_op.create_index('ix_ticket_event_action_at_agency_id', ['action', 'at', 'agency_id'], unique=False)
    # Earlier events: an agency's own steps were taken by its staff, so the
    # actor's agency is the ticket's then; a rating is of the current agency's answer.
    op.execute(
        "UPDATE ticket_event SET agency_id = (SELECT agency_id FROM user_account WHERE user_account.id = ticket_event.actor_id)"
        " WHERE action IN ('accept', 'answer', 'return', 'ask_resident', 'resume', 'request_extension')"
    )
    op.execute(
        "UPDATE ticket_event SET agency_id = (SELECT agency_id FROM ticket WHERE ticket.id = ticket_event.ticket_id)"
        " WHERE action IN ('rate', 'close', 'reopen') AND agency_id IS NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table('ticket_event', schema=None) as batch_op:
        batch_op.drop_index('ix_ticket_event_action_at_agency_id')
        batch_op.drop_constraint(batch_op.f('fk_ticket_event_agency_id_agency'), type_='foreignkey')
        batch_op.drop_column('agency_id')
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.drop_index('ix_ticket_status_answered_at')
        batch_op.drop_index('ix_ticket_agency_id_assigned_at')
        batch_op.create_index('ix_ticket_status', ['status'], unique=False)
        batch_op.create_index('ix_ticket_agency_id', ['agency_id'], unique=False)
