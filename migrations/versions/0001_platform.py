"""Platform: organizations, people, API keys, the event log, idempotency keys.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

UPGRADE = """
CREATE TABLE organizations (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL CHECK (name <> ''),
    base_currency text NOT NULL CHECK (base_currency ~ '^[A-Z]{3}$'),
    time_zone text NOT NULL DEFAULT 'Europe/Oslo',
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE departments (
    organization_id bigint NOT NULL REFERENCES organizations (id),
    id bigint GENERATED ALWAYS AS IDENTITY,
    name text NOT NULL CHECK (name <> ''),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    version integer NOT NULL DEFAULT 1,
    CONSTRAINT pk_departments PRIMARY KEY (organization_id, id),
    CONSTRAINT uq_departments_organization_id_name UNIQUE (organization_id, name)
);

CREATE TABLE sales_regions (
    organization_id bigint NOT NULL REFERENCES organizations (id),
    id bigint GENERATED ALWAYS AS IDENTITY,
    name text NOT NULL CHECK (name <> ''),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    version integer NOT NULL DEFAULT 1,
    CONSTRAINT pk_sales_regions PRIMARY KEY (organization_id, id),
    CONSTRAINT uq_sales_regions_organization_id_name UNIQUE (organization_id, name)
);

CREATE TABLE sales_groups (
    organization_id bigint NOT NULL REFERENCES organizations (id),
    id bigint GENERATED ALWAYS AS IDENTITY,
    name text NOT NULL CHECK (name <> ''),
    group_type text NOT NULL DEFAULT 'sales' CHECK (group_type IN ('sales', 'other')),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    version integer NOT NULL DEFAULT 1,
    CONSTRAINT pk_sales_groups PRIMARY KEY (organization_id, id),
    CONSTRAINT uq_sales_groups_organization_id_name UNIQUE (organization_id, name)
);

CREATE TABLE users (
    organization_id bigint NOT NULL REFERENCES organizations (id),
    id bigint GENERATED ALWAYS AS IDENTITY,
    name text NOT NULL CHECK (name <> ''),
    initials text NOT NULL,
    email text NOT NULL,
    password_hash text,
    role text NOT NULL CHECK (role IN ('admin', 'manager', 'seller')),
    department_id bigint,
    sales_region_id bigint,
    active boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    version integer NOT NULL DEFAULT 1,
    CONSTRAINT pk_users PRIMARY KEY (organization_id, id),
    CONSTRAINT fk_users_department_id_departments FOREIGN KEY (organization_id, department_id)
        REFERENCES departments (organization_id, id) ON DELETE SET NULL (department_id),
    CONSTRAINT fk_users_sales_region_id_sales_regions
        FOREIGN KEY (organization_id, sales_region_id)
        REFERENCES sales_regions (organization_id, id) ON DELETE SET NULL (sales_region_id)
);
CREATE UNIQUE INDEX uq_users_organization_id_email ON users (organization_id, lower(email));
CREATE INDEX ix_users_email ON users (lower(email));

CREATE TABLE user_sales_groups (
    organization_id bigint NOT NULL,
    user_id bigint NOT NULL,
    sales_group_id bigint NOT NULL,
    CONSTRAINT pk_user_sales_groups PRIMARY KEY (organization_id, user_id, sales_group_id),
    CONSTRAINT fk_user_sales_groups_user_id_users FOREIGN KEY (organization_id, user_id)
        REFERENCES users (organization_id, id) ON DELETE CASCADE,
    CONSTRAINT fk_user_sales_groups_sales_group_id_sales_groups
        FOREIGN KEY (organization_id, sales_group_id)
        REFERENCES sales_groups (organization_id, id) ON DELETE CASCADE
);
CREATE INDEX ix_user_sales_groups_group ON user_sales_groups (organization_id, sales_group_id);

CREATE TABLE api_keys (
    organization_id bigint NOT NULL REFERENCES organizations (id),
    id bigint GENERATED ALWAYS AS IDENTITY,
    name text NOT NULL CHECK (name <> ''),
    prefix text NOT NULL,
    secret_hash bytea NOT NULL,
    scopes text[] NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    created_by bigint,
    revoked_at timestamptz,
    CONSTRAINT pk_api_keys PRIMARY KEY (organization_id, id)
);
CREATE UNIQUE INDEX uq_api_keys_secret_hash ON api_keys (secret_hash);

CREATE TABLE events (
    organization_id bigint NOT NULL REFERENCES organizations (id),
    id bigint GENERATED ALWAYS AS IDENTITY,
    xact_id xid8 NOT NULL DEFAULT pg_current_xact_id(),
    aggregate_type text NOT NULL,
    aggregate_id bigint NOT NULL,
    type text NOT NULL,
    data jsonb NOT NULL,
    actor jsonb NOT NULL,
    occurred_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT pk_events PRIMARY KEY (organization_id, id)
);
CREATE INDEX ix_events_feed ON events (organization_id, xact_id, id);
CREATE INDEX ix_events_aggregate ON events (organization_id, aggregate_type, aggregate_id, id);
CREATE INDEX ix_events_occurred_at ON events (occurred_at);

CREATE TABLE event_retention (
    organization_id bigint PRIMARY KEY REFERENCES organizations (id),
    pruned_through_xact xid8 NOT NULL,
    pruned_through_id bigint NOT NULL
);

CREATE TABLE idempotency_keys (
    organization_id bigint NOT NULL REFERENCES organizations (id),
    key text NOT NULL,
    request_hash bytea NOT NULL,
    status_code integer,
    response_headers jsonb,
    response_body bytea,
    created_at timestamptz NOT NULL DEFAULT now(),
    locked_until timestamptz NOT NULL,
    CONSTRAINT pk_idempotency_keys PRIMARY KEY (organization_id, key)
);
CREATE INDEX ix_idempotency_keys_created_at ON idempotency_keys (created_at);
"""

DOWNGRADE = """
DROP TABLE idempotency_keys;
DROP TABLE event_retention;
DROP TABLE events;
DROP TABLE api_keys;
DROP TABLE user_sales_groups;
DROP TABLE users;
DROP TABLE sales_groups;
DROP TABLE sales_regions;
DROP TABLE departments;
DROP TABLE organizations;
"""


def _execute(script: str) -> None:
    for statement in script.split(";"):
        if statement.strip():
            op.execute(statement)


def upgrade() -> None:
    _execute(UPGRADE)


def downgrade() -> None:
    _execute(DOWNGRADE)
