"""web_login, web_session: the web console's one-time links from /web and its sessions (issue 13)

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import absensi.engine.store.models

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('web_login',
    sa.Column('telegram_id', sa.BigInteger(), nullable=False),
    sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', absensi.engine.store.models.UtcDateTime(), nullable=False),
    sa.Column('expires_at', absensi.engine.store.models.UtcDateTime(), nullable=False),
    sa.Column('used_at', absensi.engine.store.models.UtcDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('token_hash')
    )
    with op.batch_alter_table('web_login', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_web_login_telegram_id'), ['telegram_id'], unique=False)

    op.create_table('web_session',
    sa.Column('telegram_id', sa.BigInteger(), nullable=False),
    sa.Column('id_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', absensi.engine.store.models.UtcDateTime(), nullable=False),
    sa.Column('expires_at', absensi.engine.store.models.UtcDateTime(), nullable=False),
    sa.Column('ended_at', absensi.engine.store.models.UtcDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id_hash')
    )
    with op.batch_alter_table('web_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_web_session_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_web_session_telegram_id'), ['telegram_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('web_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_web_session_telegram_id'))
        batch_op.drop_index(batch_op.f('ix_web_session_expires_at'))

    op.drop_table('web_session')
    with op.batch_alter_table('web_login', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_web_login_telegram_id'))

    op.drop_table('web_login')
