"""callbacks keep the agency whose answer they judge: the figures count them without a join to ticket

Revision ID: 0027_h2
Revises: 0029_place_aliases
Create Date: 2026-12-03 12:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0027_h2"
down_revision = "0029_place_aliases"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("callback", schema=None) as batch_op:
        batch_op.add_column(sa.Column("agency_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f("fk_callback_agency_id_agency"), "agency", ["agency_id"], ["id"])
    op.execute(
        "UPDATE callback SET agency_id = (SELECT ticket.agency_id FROM ticket WHERE ticket.id = callback.ticket_id)"
    )
    op.drop_index("ix_callback_judged", table_name="callback")
    op.create_index(
        "ix_callback_judged", "callback", ["reached", "done_at", "agency_id", "solved", "satisfied"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_callback_judged", table_name="callback")
    op.create_index("ix_callback_judged", "callback", ["reached", "done_at"], unique=False)
    with op.batch_alter_table("callback", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_callback_agency_id_agency"), type_="foreignkey")
        batch_op.drop_column("agency_id")
