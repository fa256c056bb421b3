"""Products, an opportunity's product lines and offer discount, and the orders an ERP links
back to an opportunity.

A line keeps its own figures (`line_total`, `line_cost`) as the domain computed them, so
that lists and quotes read them as they are; the opportunity keeps `lines_total` and, once
an ERP has linked an order, `ordered_amount`, written in the transaction that changes a line
or an order. A product on a line cannot be deleted (the foreign key refuses it); a line goes
with its opportunity. An opportunity that has orders cannot be deleted: the ERP's record
points at it.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE TABLE products (
    organization_id bigint NOT NULL REFERENCES organizations (id),
    id bigint GENERATED ALWAYS AS IDENTITY,
    sku text NOT NULL CHECK (sku <> ''),
    name text NOT NULL CHECK (name <> ''),
    description text,
    unit_price numeric(18, 2) NOT NULL CHECK (unit_price >= 0),
    currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    unit_cost numeric(18, 2) CHECK (unit_cost >= 0),
    active boolean NOT NULL DEFAULT true,
    external_id text,
    created_at timestamptz NOT NULL DEFAULT now(),
    created_by bigint,
    updated_at timestamptz NOT NULL DEFAULT now(),
    updated_by bigint,
    version integer NOT NULL DEFAULT 1,
    CONSTRAINT pk_products PRIMARY KEY (organization_id, id),
    CONSTRAINT uq_products_organization_id_external_id UNIQUE (organization_id, external_id)
);
CREATE UNIQUE INDEX uq_products_organization_id_sku ON products (organization_id, lower(sku));
CREATE INDEX ix_products_name ON products (organization_id, lower(name));

ALTER TABLE opportunities
    ADD COLUMN amount_source text NOT NULL DEFAULT 'manual'
        CHECK (amount_source IN ('manual', 'lines')),
    ADD COLUMN discount_percent numeric(5, 2) NOT NULL DEFAULT 0
        CHECK (discount_percent BETWEEN 0 AND 100),
    ADD COLUMN lines_total numeric(18, 2) NOT NULL DEFAULT 0,
    ADD COLUMN ordered_amount numeric(18, 2);

CREATE TABLE opportunity_lines (
    organization_id bigint NOT NULL,
    id bigint GENERATED ALWAYS AS IDENTITY,
    opportunity_id bigint NOT NULL,
    product_id bigint,
    name text NOT NULL CHECK (name <> ''),
    description text,
    quantity numeric(15, 3) NOT NULL CHECK (quantity > 0),
    unit_price numeric(18, 2) NOT NULL CHECK (unit_price >= 0),
    discount_percent numeric(5, 2) NOT NULL DEFAULT 0 CHECK (discount_percent BETWEEN 0 AND 100),
    unit_cost numeric(18, 2) CHECK (unit_cost >= 0),
    position integer NOT NULL,
    line_total numeric(18, 2) NOT NULL,
    line_cost numeric(18, 2),
    created_at timestamptz NOT NULL DEFAULT now(),
    created_by bigint,
    updated_at timestamptz NOT NULL DEFAULT now(),
    updated_by bigint,
    CONSTRAINT pk_opportunity_lines PRIMARY KEY (organization_id, id),
    CONSTRAINT ck_opportunity_lines_cost CHECK ((unit_cost IS NULL) = (line_cost IS NULL)),
    CONSTRAINT fk_opportunity_lines_opportunity_id_opportunities
        FOREIGN KEY (organization_id, opportunity_id)
        REFERENCES opportunities (organization_id, id) ON DELETE CASCADE,
    CONSTRAINT fk_opportunity_lines_product_id_products FOREIGN KEY (organization_id, product_id)
        REFERENCES products (organization_id, id)
);
CREATE INDEX ix_opportunity_lines_opportunity ON opportunity_lines (organization_id,
                                                                     opportunity_id, position, id);
CREATE INDEX ix_opportunity_lines_product ON opportunity_lines (organization_id, product_id)
    WHERE product_id IS NOT NULL;

CREATE TABLE orders (
    organization_id bigint NOT NULL REFERENCES organizations (id),
    id bigint GENERATED ALWAYS AS IDENTITY,
    opportunity_id bigint NOT NULL,
    system text NOT NULL CHECK (system <> ''),
    order_number text NOT NULL CHECK (order_number <> ''),
    amount numeric(18, 2) NOT NULL CHECK (amount >= 0),
    currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    status text,
    url text,
    ordered_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    created_by bigint,
    updated_at timestamptz NOT NULL DEFAULT now(),
    updated_by bigint,
    version integer NOT NULL DEFAULT 1,
    CONSTRAINT pk_orders PRIMARY KEY (organization_id, id),
    CONSTRAINT uq_orders_organization_id_system_order_number
        UNIQUE (organization_id, system, order_number),
    CONSTRAINT fk_orders_opportunity_id_opportunities FOREIGN KEY (organization_id, opportunity_id)
        REFERENCES opportunities (organization_id, id)
);
CREATE INDEX ix_orders_opportunity ON orders (organization_id, opportunity_id, id);
CREATE INDEX ix_orders_ordered_at ON orders (organization_id, ordered_at, id)
"""

DOWNGRADE = """
DROP TABLE orders;
DROP TABLE opportunity_lines;
ALTER TABLE opportunities
    DROP COLUMN ordered_amount,
    DROP COLUMN lines_total,
    DROP COLUMN discount_percent,
    DROP COLUMN amount_source;
DROP TABLE products
"""


def _execute(script: str) -> None:
    for statement in script.split(";\n"):
        if statement.strip():
            op.execute(statement)


def upgrade() -> None:
    _execute(UPGRADE)


def downgrade() -> None:
    _execute(DOWNGRADE)
