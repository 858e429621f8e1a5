"""deputies (with their WeChat binding), their stations and submissions; voice-note transcriptions

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26 23:45:00.000000
"""
import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'deputy',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('level', sa.Enum('province', 'city', 'district', name='deputylevel', native_enum=False, length=32), nullable=False),
        sa.Column('wechat_openid', sa.String(length=128), nullable=True),
        sa.Column('bind_code', sa.String(length=16), nullable=True),
        sa.Column('bind_code_expires', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_deputy_user_id_user_account')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_deputy')),
        sa.UniqueConstraint('user_id', name=op.f('uq_deputy_user_id')),
        sa.UniqueConstraint('wechat_openid', name=op.f('uq_deputy_wechat_openid')),
    )
    with op.batch_alter_table('deputy', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_deputy_bind_code'), ['bind_code'], unique=False)
    op.create_table(
        'deputy_station',
        sa.Column('deputy_id', sa.Integer(), nullable=False),
        sa.Column('station_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['deputy_id'], ['deputy.id'], name=op.f('fk_deputy_station_deputy_id_deputy')),
        sa.ForeignKeyConstraint(['station_id'], ['station.id'], name=op.f('fk_deputy_station_station_id_station')),
        sa.PrimaryKeyConstraint('deputy_id', 'station_id', name=op.f('pk_deputy_station')),
    )
    with op.batch_alter_table('deputy_station', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_deputy_station_station_id'), ['station_id'], unique=False)
    op.create_table(
        'deputy_submission',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('ticket_id', sa.Integer(), nullable=False),
        sa.Column('deputy_id', sa.Integer(), nullable=False),
        sa.Column('station_id', sa.Integer(), nullable=True),
        sa.Column('mode', sa.String(length=16), nullable=False),
        sa.Column('constituents', sa.Integer(), nullable=False),
        sa.Column('place', sa.String(length=200), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['deputy_id'], ['deputy.id'], name=op.f('fk_deputy_submission_deputy_id_deputy')),
        sa.ForeignKeyConstraint(['station_id'], ['station.id'], name=op.f('fk_deputy_submission_station_id_station')),
        sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id'], name=op.f('fk_deputy_submission_ticket_id_ticket')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_deputy_submission')),
        sa.UniqueConstraint('ticket_id', name=op.f('uq_deputy_submission_ticket_id')),
    )
    with op.batch_alter_table('deputy_submission', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_deputy_submission_deputy_id'), ['deputy_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_deputy_submission_station_id'), ['station_id'], unique=False)
    op.create_table(
        'transcription',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('attachment_id', sa.Integer(), nullable=False),
        sa.Column('ticket_id', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('text', sa.Text(), nullable=True),
        sa.Column('source', sa.String(length=32), nullable=True),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('transcribed_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('done_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['attachment_id'], ['attachment.id'], name=op.f('fk_transcription_attachment_id_attachment')),
        sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id'], name=op.f('fk_transcription_ticket_id_ticket')),
        sa.ForeignKeyConstraint(['transcribed_by_id'], ['user_account.id'], name=op.f('fk_transcription_transcribed_by_id_user_account')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_transcription')),
        sa.UniqueConstraint('attachment_id', name=op.f('uq_transcription_attachment_id')),
    )
    with op.batch_alter_table('transcription', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_transcription_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_transcription_ticket_id'), ['ticket_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('transcription', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_transcription_ticket_id'))
        batch_op.drop_index(batch_op.f('ix_transcription_status'))
    op.drop_table('transcription')
    with op.batch_alter_table('deputy_submission', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_deputy_submission_station_id'))
        batch_op.drop_index(batch_op.f('ix_deputy_submission_deputy_id'))
    op.drop_table('deputy_submission')
    with op.batch_alter_table('deputy_station', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_deputy_station_station_id'))
    op.drop_table('deputy_station')
    with op.batch_alter_table('deputy', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_deputy_bind_code'))
    op.drop_table('deputy')
