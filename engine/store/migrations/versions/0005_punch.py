"""punch: fingerprint punches at the gate, from the machines' files or a live pull (SPEC §10)

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import absensi.engine.store.models

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('punch',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('nis', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('user_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('at', absensi.engine.store.models.UtcDateTime(), nullable=False),
    sa.Column('device', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('imported_at', absensi.engine.store.models.UtcDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('device', 'user_id', 'at')
    )
    with op.batch_alter_table('punch', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_punch_at'), ['at'], unique=False)
        batch_op.create_index('ix_punch_nis_at', ['nis', 'at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('punch', schema=None) as batch_op:
        batch_op.drop_index('ix_punch_nis_at')
        batch_op.drop_index(batch_op.f('ix_punch_at'))

    op.drop_table('punch')
