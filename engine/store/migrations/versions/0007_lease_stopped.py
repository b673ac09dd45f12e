"""engine_lease.stopped_at: when the engine holding the lease stopped cleanly (`absensi status` says so at once)

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

import absensi.engine.store.models

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('engine_lease', schema=None) as batch_op:
        batch_op.add_column(sa.Column('stopped_at', absensi.engine.store.models.UtcDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('engine_lease', schema=None) as batch_op:
        batch_op.drop_column('stopped_at')
