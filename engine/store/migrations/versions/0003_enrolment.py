"""enrolment: a student's class and absen number over a school year

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('enrolment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('school_year', sqlmodel.sql.sqltypes.AutoString(length=9), nullable=False),
    sa.Column('nis', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('class_name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('absen_no', sa.Integer(), nullable=False),
    sa.Column('start_day', sa.Date(), nullable=False),
    sa.Column('end_day', sa.Date(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('school_year', 'class_name', 'absen_no')
    )
    with op.batch_alter_table('enrolment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_enrolment_nis'), ['nis'], unique=False)
        batch_op.create_index(batch_op.f('ix_enrolment_school_year'), ['school_year'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('enrolment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_enrolment_school_year'))
        batch_op.drop_index(batch_op.f('ix_enrolment_nis'))
    op.drop_table('enrolment')
