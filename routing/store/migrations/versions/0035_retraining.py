"""The learning loop: the record of retrainings, and corrections a dispatcher's ruling superseded

Revision ID: 0035_retraining
Revises: 0030_h5
Create Date: 2026-12-04 09:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0035_retraining'
down_revision = '0030_h5'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'model_retraining',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('started_at', sa.DateTime(), nullable=False),
        sa.Column('seconds', sa.Float(), nullable=False),
        sa.Column('trigger', sa.String(length=16), nullable=False),
        sa.Column('requested_by_id', sa.Integer(), nullable=True),
        sa.Column('outcome', sa.String(length=16), nullable=False),
        sa.Column('version_before', sa.String(length=32), nullable=True),
        sa.Column('version_after', sa.String(length=32), nullable=True),
        sa.Column('held_out', sa.Integer(), nullable=False),
        sa.Column('accuracy_before', sa.Float(), nullable=True),
        sa.Column('accuracy_after', sa.Float(), nullable=True),
        sa.Column('agency_held_out', sa.Integer(), nullable=False),
        sa.Column('agency_accuracy_before', sa.Float(), nullable=True),
        sa.Column('agency_accuracy_after', sa.Float(), nullable=True),
        sa.Column('examples', sa.Integer(), nullable=False),
        sa.Column('corrections', sa.Integer(), nullable=False),
        sa.Column('closed', sa.Integer(), nullable=False),
        sa.Column('withheld', sa.Integer(), nullable=False),
        sa.Column('note', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ['requested_by_id'], ['user_account.id'], name=op.f('fk_model_retraining_requested_by_id_user_account')
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_model_retraining')),
    )
    op.create_index(op.f('ix_model_retraining_started_at'), 'model_retraining', ['started_at'], unique=False)
    with op.batch_alter_table('correction', schema=None) as batch_op:
        batch_op.add_column(sa.Column('superseded_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('superseded_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_correction_superseded_by_id_user_account'), 'user_account', ['superseded_by_id'], ['id']
        )


def downgrade() -> None:
    with op.batch_alter_table('correction', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_correction_superseded_by_id_user_account'), type_='foreignkey')
        batch_op.drop_column('superseded_by_id')
        batch_op.drop_column('superseded_at')
    op.drop_index(op.f('ix_model_retraining_started_at'), table_name='model_retraining')
    op.drop_table('model_retraining')
