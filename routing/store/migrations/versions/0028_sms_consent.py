"""sms consent: whether the resident agreed to be texted about the ticket

Revision ID: 0028_sms_consent
Revises: 0022_organisation
Create Date: 2026-12-03 11:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0028_sms_consent"
down_revision = "0022_organisation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Tickets before this were texted when they had a mobile number: they keep that.
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sms_notice", sa.Boolean(), server_default=sa.true(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.drop_column("sms_notice")
