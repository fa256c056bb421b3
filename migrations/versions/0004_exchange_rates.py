"""Exchange rates to the organization's base currency, each valid from a date.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE TABLE exchange_rates (
    organization_id bigint NOT NULL REFERENCES organizations (id),
    id bigint GENERATED ALWAYS AS IDENTITY,
    currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    rate numeric(20, 10) NOT NULL CHECK (rate > 0),
    valid_from date NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    version integer NOT NULL DEFAULT 1,
    CONSTRAINT pk_exchange_rates PRIMARY KEY (organization_id, id),
    CONSTRAINT uq_exchange_rates_organization_id_currency_valid_from
        UNIQUE (organization_id, currency, valid_from)
)
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute("DROP TABLE exchange_rates")
