"""enrolment.name: the student's name as the roster had it while the seat was held, so the reports of past
periods still name a student who has left (SPEC §2: records of past years stay under their classes)

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('enrolment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('enrolment', schema=None) as batch_op:
        batch_op.drop_column('name')
