"""performance indexes: live reports by outlet and by claim

Revision ID: 0003_performance_indexes
Revises: 0002_subscriptions_outbox
Create Date: 2026-11-22 04:20:00

Partial indexes over live (not retracted) reports, which is what every read counts:

- ``ix_reports_live_outlet_claim (outlet_id, claim_id)``: the outlet list's report count
  per outlet and the claims list's ``outlet`` filter become index-only scans instead of
  visiting each of the outlet's report rows;
- ``ix_reports_live_claim (claim_id, id)``: a claim's evidence, read on every rescore,
  comes in id order straight from the index, with no filter or sort step.
"""

from alembic import op
import sqlalchemy as sa


revision = '0003_performance_indexes'
down_revision = '0002_subscriptions_outbox'
branch_labels = None
depends_on = None

LIVE = sa.text("retracted_at IS NULL")


def upgrade() -> None:
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.create_index(
            'ix_reports_live_outlet_claim', ['outlet_id', 'claim_id'], unique=False,
            postgresql_where=LIVE, sqlite_where=LIVE,
        )
        batch_op.create_index(
            'ix_reports_live_claim', ['claim_id', 'id'], unique=False,
            postgresql_where=LIVE, sqlite_where=LIVE,
        )


def downgrade() -> None:
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.drop_index('ix_reports_live_claim')
        batch_op.drop_index('ix_reports_live_outlet_claim')
