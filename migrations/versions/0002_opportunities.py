"""Opportunities core: configuration lists, campaigns, customers and contacts, sales
processes and stages, opportunities and their sellers.

Where the server offers `pg_trgm`, GIN trigram indexes serve the `%text%` searches; where it
does not (the embedded server), the same queries run without them and return the same rows.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from alembic import op
from sqlalchemy import text

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_LIST = """
CREATE TABLE {name} (
    organization_id bigint NOT NULL REFERENCES organizations (id),
    id bigint GENERATED ALWAYS AS IDENTITY,
    name text NOT NULL CHECK (name <> ''),
    position integer NOT NULL,
    active boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    version integer NOT NULL DEFAULT 1,
    CONSTRAINT pk_{name} PRIMARY KEY (organization_id, id)
);
CREATE UNIQUE INDEX uq_{name}_organization_id_name ON {name} (organization_id, lower(name));
"""
LISTS = ("opportunity_types", "sources", "loss_reasons")

UPGRADE = "".join(_LIST.format(name=name) for name in LISTS) + """
ALTER TABLE organizations ADD COLUMN loss_reason_required boolean NOT NULL DEFAULT false;

CREATE FUNCTION half_even_cents(x numeric) RETURNS numeric
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT sign(x) * CASE
        WHEN abs(x) * 100 - trunc(abs(x) * 100) = 0.5 AND trunc(abs(x) * 100) % 2 = 0
        THEN trunc(abs(x) * 100) / 100
        ELSE round(abs(x), 2)
    END
$$;

CREATE TABLE campaigns (
    organization_id bigint NOT NULL REFERENCES organizations (id),
    id bigint GENERATED ALWAYS AS IDENTITY,
    name text NOT NULL CHECK (name <> ''),
    starts_on date,
    ends_on date,
    active boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    version integer NOT NULL DEFAULT 1,
    CONSTRAINT pk_campaigns PRIMARY KEY (organization_id, id),
    CONSTRAINT ck_campaigns_period CHECK (ends_on IS NULL OR starts_on IS NULL
                                          OR ends_on >= starts_on)
);

CREATE TABLE customers (
    organization_id bigint NOT NULL REFERENCES organizations (id),
    id bigint GENERATED ALWAYS AS IDENTITY,
    name text NOT NULL CHECK (name <> ''),
    org_number text,
    email text,
    phone text,
    status text NOT NULL DEFAULT 'active' CHECK (status IN ('prospect', 'active', 'inactive')),
    external_id text,
    owner_id bigint,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    version integer NOT NULL DEFAULT 1,
    CONSTRAINT pk_customers PRIMARY KEY (organization_id, id),
    CONSTRAINT uq_customers_organization_id_external_id UNIQUE (organization_id, external_id),
    CONSTRAINT fk_customers_owner_id_users FOREIGN KEY (organization_id, owner_id)
        REFERENCES users (organization_id, id) ON DELETE SET NULL (owner_id)
);
CREATE INDEX ix_customers_name ON customers (organization_id, lower(name));

CREATE TABLE contacts (
    organization_id bigint NOT NULL REFERENCES organizations (id),
    id bigint GENERATED ALWAYS AS IDENTITY,
    customer_id bigint NOT NULL,
    name text NOT NULL CHECK (name <> ''),
    email text,
    phone text,
    title text,
    external_id text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    version integer NOT NULL DEFAULT 1,
    CONSTRAINT pk_contacts PRIMARY KEY (organization_id, id),
    CONSTRAINT uq_contacts_organization_id_external_id UNIQUE (organization_id, external_id),
    CONSTRAINT uq_contacts_organization_id_customer_id_id UNIQUE (organization_id, customer_id, id),
    CONSTRAINT fk_contacts_customer_id_customers FOREIGN KEY (organization_id, customer_id)
        REFERENCES customers (organization_id, id) ON DELETE CASCADE
);

CREATE TABLE sales_processes (
    organization_id bigint NOT NULL REFERENCES organizations (id),
    id bigint GENERATED ALWAYS AS IDENTITY,
    name text NOT NULL CHECK (name <> ''),
    active boolean NOT NULL DEFAULT true,
    note text,
    default_for_all boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    created_by bigint,
    updated_at timestamptz NOT NULL DEFAULT now(),
    updated_by bigint,
    version integer NOT NULL DEFAULT 1,
    CONSTRAINT pk_sales_processes PRIMARY KEY (organization_id, id)
);

CREATE TABLE sales_process_defaults (
    organization_id bigint NOT NULL,
    sales_process_id bigint NOT NULL,
    user_id bigint,
    department_id bigint,
    sales_region_id bigint,
    CONSTRAINT ck_sales_process_defaults_one_target CHECK (
        num_nonnulls(user_id, department_id, sales_region_id) = 1),
    CONSTRAINT fk_sales_process_defaults_sales_process_id_sales_processes
        FOREIGN KEY (organization_id, sales_process_id)
        REFERENCES sales_processes (organization_id, id) ON DELETE CASCADE,
    CONSTRAINT fk_sales_process_defaults_user_id_users FOREIGN KEY (organization_id, user_id)
        REFERENCES users (organization_id, id) ON DELETE CASCADE,
    CONSTRAINT fk_sales_process_defaults_department_id_departments
        FOREIGN KEY (organization_id, department_id)
        REFERENCES departments (organization_id, id) ON DELETE CASCADE,
    CONSTRAINT fk_sales_process_defaults_sales_region_id_sales_regions
        FOREIGN KEY (organization_id, sales_region_id)
        REFERENCES sales_regions (organization_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX uq_sales_process_defaults_target ON sales_process_defaults (
    organization_id, sales_process_id, coalesce(user_id, 0), coalesce(department_id, 0),
    coalesce(sales_region_id, 0));
CREATE INDEX ix_sales_process_defaults_user ON sales_process_defaults (organization_id, user_id);

CREATE TABLE stages (
    organization_id bigint NOT NULL,
    id bigint GENERATED ALWAYS AS IDENTITY,
    sales_process_id bigint NOT NULL,
    name text NOT NULL CHECK (name <> ''),
    position integer NOT NULL,
    probability numeric(5, 2) NOT NULL CHECK (probability BETWEEN 0 AND 100),
    kind text NOT NULL CHECK (kind IN ('open', 'won', 'lost')),
    color text,
    marks_quote_signed boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT pk_stages PRIMARY KEY (organization_id, id),
    CONSTRAINT uq_stages_organization_id_sales_process_id_id
        UNIQUE (organization_id, sales_process_id, id),
    CONSTRAINT uq_stages_organization_id_sales_process_id_position
        UNIQUE (organization_id, sales_process_id, position) DEFERRABLE INITIALLY DEFERRED,
    CONSTRAINT fk_stages_sales_process_id_sales_processes
        FOREIGN KEY (organization_id, sales_process_id)
        REFERENCES sales_processes (organization_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX uq_stages_quote_signed ON stages (organization_id, sales_process_id)
    WHERE marks_quote_signed;

CREATE TABLE opportunities (
    organization_id bigint NOT NULL REFERENCES organizations (id),
    id bigint GENERATED ALWAYS AS IDENTITY,
    name text NOT NULL CHECK (name <> ''),
    description text,
    customer_id bigint NOT NULL,
    contact_id bigint,
    owner_id bigint NOT NULL,
    sales_process_id bigint NOT NULL,
    stage_id bigint NOT NULL,
    last_open_stage_id bigint,
    status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'won', 'lost', 'expired')),
    type_id bigint,
    source_id bigint,
    campaign_id bigint,
    amount numeric(18, 2) NOT NULL DEFAULT 0 CHECK (amount >= 0),
    currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    probability numeric(5, 2) NOT NULL CHECK (probability BETWEEN 0 AND 100),
    probability_source text NOT NULL DEFAULT 'stage'
        CHECK (probability_source IN ('stage', 'manual')),
    weighted_amount numeric(18, 2)
        GENERATED ALWAYS AS (half_even_cents(amount * probability / 100)) STORED,
    margin_amount numeric(18, 2),
    expected_close_date date,
    follow_up_date date,
    previous_follow_up_date date,
    loss_reason_id bigint,
    loss_note text,
    closed_at timestamptz,
    project_ref text,
    external_id text,
    created_at timestamptz NOT NULL DEFAULT now(),
    created_by bigint,
    updated_at timestamptz NOT NULL DEFAULT now(),
    updated_by bigint,
    version integer NOT NULL DEFAULT 1,
    CONSTRAINT pk_opportunities PRIMARY KEY (organization_id, id),
    CONSTRAINT uq_opportunities_organization_id_external_id UNIQUE (organization_id, external_id),
    CONSTRAINT ck_opportunities_closed CHECK ((status = 'open') = (closed_at IS NULL)),
    CONSTRAINT fk_opportunities_customer_id_customers FOREIGN KEY (organization_id, customer_id)
        REFERENCES customers (organization_id, id),
    CONSTRAINT fk_opportunities_contact_id_contacts
        FOREIGN KEY (organization_id, customer_id, contact_id)
        REFERENCES contacts (organization_id, customer_id, id),
    CONSTRAINT fk_opportunities_owner_id_users FOREIGN KEY (organization_id, owner_id)
        REFERENCES users (organization_id, id),
    CONSTRAINT fk_opportunities_stage_id_stages
        FOREIGN KEY (organization_id, sales_process_id, stage_id)
        REFERENCES stages (organization_id, sales_process_id, id),
    CONSTRAINT fk_opportunities_type_id_opportunity_types FOREIGN KEY (organization_id, type_id)
        REFERENCES opportunity_types (organization_id, id),
    CONSTRAINT fk_opportunities_source_id_sources FOREIGN KEY (organization_id, source_id)
        REFERENCES sources (organization_id, id),
    CONSTRAINT fk_opportunities_campaign_id_campaigns FOREIGN KEY (organization_id, campaign_id)
        REFERENCES campaigns (organization_id, id),
    CONSTRAINT fk_opportunities_loss_reason_id_loss_reasons
        FOREIGN KEY (organization_id, loss_reason_id)
        REFERENCES loss_reasons (organization_id, id)
);
CREATE INDEX ix_opportunities_owner ON opportunities (organization_id, owner_id, status,
                                                      expected_close_date, id);
CREATE INDEX ix_opportunities_status ON opportunities (organization_id, status,
                                                       expected_close_date);
CREATE INDEX ix_opportunities_customer ON opportunities (organization_id, customer_id);
CREATE INDEX ix_opportunities_stage ON opportunities (organization_id, sales_process_id,
                                                      stage_id);
CREATE INDEX ix_opportunities_campaign ON opportunities (organization_id, campaign_id)
    WHERE campaign_id IS NOT NULL;
CREATE INDEX ix_opportunities_updated_at ON opportunities (organization_id, updated_at, id);

CREATE TABLE opportunity_sellers (
    organization_id bigint NOT NULL,
    opportunity_id bigint NOT NULL,
    user_id bigint NOT NULL,
    share numeric(5, 2) NOT NULL CHECK (share > 0 AND share <= 100),
    added_seq integer NOT NULL,
    CONSTRAINT pk_opportunity_sellers PRIMARY KEY (organization_id, opportunity_id, user_id),
    CONSTRAINT fk_opportunity_sellers_opportunity_id_opportunities
        FOREIGN KEY (organization_id, opportunity_id)
        REFERENCES opportunities (organization_id, id) ON DELETE CASCADE,
    CONSTRAINT fk_opportunity_sellers_user_id_users FOREIGN KEY (organization_id, user_id)
        REFERENCES users (organization_id, id)
);
CREATE INDEX ix_opportunity_sellers_user ON opportunity_sellers (organization_id, user_id);

CREATE TABLE opportunity_history (
    organization_id bigint NOT NULL REFERENCES organizations (id),
    id bigint GENERATED ALWAYS AS IDENTITY,
    opportunity_id bigint NOT NULL,
    version integer NOT NULL,
    valid_from timestamptz NOT NULL DEFAULT now(),
    valid_to timestamptz,
    status text NOT NULL,
    sales_process_id bigint NOT NULL,
    stage_id bigint NOT NULL,
    owner_id bigint NOT NULL,
    customer_id bigint NOT NULL,
    campaign_id bigint,
    source_id bigint,
    type_id bigint,
    amount numeric(18, 2) NOT NULL,
    currency text NOT NULL,
    probability numeric(5, 2) NOT NULL,
    weighted_amount numeric(18, 2) NOT NULL,
    expected_close_date date,
    closed_at timestamptz,
    loss_reason_id bigint,
    created_at timestamptz NOT NULL,
    CONSTRAINT pk_opportunity_history PRIMARY KEY (organization_id, id)
);
CREATE INDEX ix_opportunity_history_opportunity ON opportunity_history (
    organization_id, opportunity_id, valid_from);
CREATE INDEX ix_opportunity_history_valid_from ON opportunity_history (organization_id,
                                                                      valid_from);
CREATE INDEX ix_opportunity_history_current ON opportunity_history (organization_id,
                                                                   opportunity_id)
    WHERE valid_to IS NULL;
"""

# The opportunity's forecast-relevant state over time, kept by the database itself so that
# every path that writes opportunities (the API, stage removal, bulk imports, COPY) leaves
# it right: each change of a tracked column closes the current row and opens a new one.
HISTORY_FUNCTION = """
CREATE FUNCTION record_opportunity_history() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE opportunity_history SET valid_to = now()
        WHERE organization_id = OLD.organization_id AND opportunity_id = OLD.id
          AND valid_to IS NULL;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO opportunity_history (
            organization_id, opportunity_id, version, status, sales_process_id, stage_id,
            owner_id, customer_id, campaign_id, source_id, type_id, amount, currency,
            probability, weighted_amount, expected_close_date, closed_at, loss_reason_id,
            created_at)
        VALUES (
            NEW.organization_id, NEW.id, NEW.version, NEW.status, NEW.sales_process_id,
            NEW.stage_id, NEW.owner_id, NEW.customer_id, NEW.campaign_id, NEW.source_id,
            NEW.type_id, NEW.amount, NEW.currency, NEW.probability, NEW.weighted_amount,
            NEW.expected_close_date, NEW.closed_at, NEW.loss_reason_id, NEW.created_at);
    END IF;
    RETURN NULL;
END
$$
"""
_TRACKED = ("status, sales_process_id, stage_id, owner_id, customer_id, campaign_id, "
            "source_id, type_id, amount, currency, probability, expected_close_date, "
            "closed_at, loss_reason_id")
HISTORY_TRIGGERS = (
    "CREATE TRIGGER tr_opportunities_history_insert AFTER INSERT ON opportunities "
    "FOR EACH ROW EXECUTE FUNCTION record_opportunity_history()",
    "CREATE TRIGGER tr_opportunities_history_update AFTER UPDATE ON opportunities "
    f"FOR EACH ROW WHEN (ROW({_TRACKED.replace(', ', ', OLD.').join(['OLD.', ''])}) "
    f"IS DISTINCT FROM ROW({_TRACKED.replace(', ', ', NEW.').join(['NEW.', ''])})) "
    "EXECUTE FUNCTION record_opportunity_history()",
    "CREATE TRIGGER tr_opportunities_history_delete AFTER DELETE ON opportunities "
    "FOR EACH ROW EXECUTE FUNCTION record_opportunity_history()",
)

TRIGRAM_INDEXES = """
CREATE INDEX ix_opportunities_name_trgm ON opportunities USING gin (name gin_trgm_ops);
CREATE INDEX ix_opportunities_description_trgm ON opportunities
    USING gin (description gin_trgm_ops);
CREATE INDEX ix_customers_name_trgm ON customers USING gin (name gin_trgm_ops)
"""

DOWNGRADE = """
DROP TABLE opportunity_history;
DROP TABLE opportunity_sellers;
DROP TABLE opportunities;
DROP FUNCTION record_opportunity_history();
DROP TABLE stages;
DROP TABLE sales_process_defaults;
DROP TABLE sales_processes;
DROP TABLE contacts;
DROP TABLE customers;
DROP TABLE campaigns;
DROP FUNCTION half_even_cents(numeric);
ALTER TABLE organizations DROP COLUMN loss_reason_required;
""" + "".join(f"DROP TABLE {name};\n" for name in reversed(LISTS))


def _execute(script: str) -> None:
    for statement in script.split(";\n"):
        if statement.strip():
            op.execute(statement)


def _trigram_available() -> bool:
    """Whether `pg_trgm` is installed or can be: a server without it searches unindexed."""
    found = op.get_bind().execute(text(
        "SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'")).first()
    return found is not None


def upgrade() -> None:
    _execute(UPGRADE)
    op.execute(HISTORY_FUNCTION)
    for trigger in HISTORY_TRIGGERS:
        op.execute(trigger)
    if _trigram_available():
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        _execute(TRIGRAM_INDEXES)


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_opportunities_name_trgm")
    op.execute("DROP INDEX IF EXISTS ix_opportunities_description_trgm")
    op.execute("DROP INDEX IF EXISTS ix_customers_name_trgm")
    _execute(DOWNGRADE)
