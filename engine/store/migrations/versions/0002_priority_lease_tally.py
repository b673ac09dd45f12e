"""outbox priority, engine lease, tallies

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import absensi.engine.store.models

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('priority', sa.Integer(), nullable=False, server_default='50'))
        batch_op.create_index('ix_outbox_due', ['channel', 'status', 'priority', 'next_try_at'], unique=False)
    op.create_table('engine_lease',
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('holder', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('acquired_at', absensi.engine.store.models.UtcDateTime(), nullable=False),
    sa.Column('heartbeat_at', absensi.engine.store.models.UtcDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    op.create_table('tally',
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('updated_at', absensi.engine.store.models.UtcDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )


def downgrade() -> None:
    op.drop_table('tally')
    op.drop_table('engine_lease')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_due')
        batch_op.drop_column('priority')
