"""`opportunities.weighted_amount` computed exactly: amount * probability * 0.01 (numeric
multiplication keeps every digit) rounded half-even to the cent once, as the domain
(`domain/sales/opportunities.py weighted_amount`) and the reports compute it. The column of
0002 divided by 100 first, and numeric division cuts the scale of a large quotient (above
about 10^12) before the rounding, so that such amounts were rounded twice.

PostgreSQL 16 cannot change a generated column's expression, so the column is dropped and
added again (the table is rewritten once; nothing else refers to the column by position or
depends on it). The copies in `opportunity_history` are recomputed by the same rule.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

EXACT = "half_even_cents(amount * probability * 0.01)"
DIVIDED = "half_even_cents(amount * probability / 100)"


def _compute_with(expression: str) -> None:
    op.execute(f"""
ALTER TABLE opportunities
    DROP COLUMN weighted_amount,
    ADD COLUMN weighted_amount numeric(18, 2) GENERATED ALWAYS AS ({expression}) STORED
""")
    op.execute(f"""
UPDATE opportunity_history SET weighted_amount = {expression}
WHERE weighted_amount IS DISTINCT FROM {expression}
""")


def upgrade() -> None:
    _compute_with(EXACT)


def downgrade() -> None:
    _compute_with(DIVIDED)
