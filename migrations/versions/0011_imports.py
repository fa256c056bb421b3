"""Bulk imports (and leads): the import with its progress, the uploaded file in chunks, and the rows
that failed.

- `imports` is a queue the workers claim across organizations (`FOR UPDATE SKIP LOCKED`
  on the queued or lease-expired ones); every row still carries `organization_id`, and
  the work runs scoped to it. `columns`: a CSV file's header, once read. `caller` is who
  uploaded (role, scopes, user or API key): the rows are written as that caller would
  write them through the API. A running import is leased (`leased_until`), so that one
  whose worker died is taken up again.
- `import_chunks`: the file as it arrived, in order, so that any worker can read it.
- `import_failures`: one row per failed input row, with its errors and the input itself
  (for the CSV of failed rows that can be fixed and sent again).
- Customers are indexed by `org_number`: a lead without an external id is matched by it.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE TABLE imports (
    organization_id bigint NOT NULL REFERENCES organizations (id),
    id bigint GENERATED ALWAYS AS IDENTITY,
    resource text NOT NULL
        CHECK (resource IN ('customers', 'contacts', 'opportunities', 'activities')),
    format text NOT NULL CHECK (format IN ('csv', 'ndjson')),
    mode text NOT NULL CHECK (mode IN ('atomic', 'per_row')),
    validate_only boolean NOT NULL,
    status text NOT NULL DEFAULT 'queued'
        CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    caller jsonb NOT NULL,
    default_owner_id bigint,
    idempotency_key text,
    bytes bigint NOT NULL DEFAULT 0,
    columns text[],
    rows_total bigint,
    rows_processed bigint NOT NULL DEFAULT 0,
    rows_created bigint NOT NULL DEFAULT 0,
    rows_updated bigint NOT NULL DEFAULT 0,
    rows_unchanged bigint NOT NULL DEFAULT 0,
    rows_failed bigint NOT NULL DEFAULT 0,
    error jsonb,
    cancel_requested boolean NOT NULL DEFAULT false,
    leased_until timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    created_by bigint,
    started_at timestamptz,
    finished_at timestamptz,
    CONSTRAINT pk_imports PRIMARY KEY (organization_id, id)
);
CREATE UNIQUE INDEX uq_imports_idempotency_key ON imports (organization_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE INDEX ix_imports_list ON imports (organization_id, id DESC);
-- What the workers claim: imports not yet ended, oldest first.
CREATE INDEX ix_imports_open ON imports (id) WHERE status IN ('queued', 'running');

CREATE TABLE import_chunks (
    organization_id bigint NOT NULL,
    import_id bigint NOT NULL,
    seq integer NOT NULL,
    data bytea NOT NULL,
    CONSTRAINT pk_import_chunks PRIMARY KEY (organization_id, import_id, seq),
    CONSTRAINT fk_import_chunks_import_id_imports FOREIGN KEY (organization_id, import_id)
        REFERENCES imports (organization_id, id) ON DELETE CASCADE
);

CREATE TABLE import_failures (
    organization_id bigint NOT NULL,
    import_id bigint NOT NULL,
    row_number bigint NOT NULL,
    external_id text,
    errors jsonb NOT NULL,
    input jsonb NOT NULL,
    CONSTRAINT pk_import_failures PRIMARY KEY (organization_id, import_id, row_number),
    CONSTRAINT fk_import_failures_import_id_imports FOREIGN KEY (organization_id, import_id)
        REFERENCES imports (organization_id, id) ON DELETE CASCADE
);
CREATE INDEX ix_customers_org_number ON customers (organization_id, org_number)
    WHERE org_number IS NOT NULL
"""

DOWNGRADE = """
DROP INDEX ix_customers_org_number;
DROP TABLE import_failures;
DROP TABLE import_chunks;
DROP TABLE imports
"""


def _execute(script: str) -> None:
    for statement in script.split(";\n"):
        if statement.strip():
            op.execute(statement)


def upgrade() -> None:
    _execute(UPGRADE)


def downgrade() -> None:
    _execute(DOWNGRADE)
