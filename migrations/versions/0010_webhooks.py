"""Outbound webhooks: the endpoints an organization registers, a delivery per event and
endpoint written in the event's own transaction (the outbox), and the log of attempts;
the scheduled jobs' due times.

- An endpoint keeps its signing secret encrypted (`secret_encrypted`); after a rotation the
  previous one stays valid, and signs too, until `previous_secret_expires_at`.
- `failing_since`: the first failed attempt after the endpoint's last success (null while
  it succeeds); five days of it disable the endpoint.
- A delivery is one event for one endpoint (unique), `pending` until it succeeds or its
  last attempt fails. A worker leases what it sends (`leased_until`), so that a worker
  killed mid-attempt leaves it to another once the lease ends. `attempts_due` counts the
  attempts since it was last queued (the retry schedule's position); `attempt_count` all.
- Sent quotes are indexed by `valid_until` for the scheduler's expiry job.
- `scheduled_jobs`: one row per job with its next due time, claimed by one worker at a
  time (`FOR UPDATE SKIP LOCKED`), whatever the number of workers.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE TABLE webhook_endpoints (
    organization_id bigint NOT NULL REFERENCES organizations (id),
    id bigint GENERATED ALWAYS AS IDENTITY,
    url text NOT NULL CHECK (url <> ''),
    description text,
    event_types text[] NOT NULL DEFAULT '{}',
    active boolean NOT NULL DEFAULT true,
    secret_encrypted text NOT NULL,
    previous_secret_encrypted text,
    previous_secret_expires_at timestamptz,
    disabled_at timestamptz,
    disabled_reason text,
    failing_since timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    created_by bigint,
    updated_at timestamptz NOT NULL DEFAULT now(),
    updated_by bigint,
    version integer NOT NULL DEFAULT 1,
    CONSTRAINT pk_webhook_endpoints PRIMARY KEY (organization_id, id)
);
CREATE INDEX ix_webhook_endpoints_active ON webhook_endpoints (organization_id)
    INCLUDE (id, event_types) WHERE active;

CREATE TABLE webhook_deliveries (
    organization_id bigint NOT NULL REFERENCES organizations (id),
    id bigint GENERATED ALWAYS AS IDENTITY,
    endpoint_id bigint NOT NULL,
    event_id bigint NOT NULL,
    event_type text NOT NULL,
    status text NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'succeeded', 'failed')),
    attempt_count integer NOT NULL DEFAULT 0,
    attempts_due integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    leased_until timestamptz,
    last_status_code integer,
    last_error text,
    created_at timestamptz NOT NULL DEFAULT now(),
    succeeded_at timestamptz,
    CONSTRAINT pk_webhook_deliveries PRIMARY KEY (organization_id, id),
    CONSTRAINT fk_webhook_deliveries_endpoint_id_webhook_endpoints
        FOREIGN KEY (organization_id, endpoint_id)
        REFERENCES webhook_endpoints (organization_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX uq_webhook_deliveries_event
    ON webhook_deliveries (organization_id, endpoint_id, event_id);
CREATE INDEX ix_webhook_deliveries_endpoint
    ON webhook_deliveries (organization_id, endpoint_id, id);
-- What the workers claim: pending deliveries by due time, across organizations.
CREATE INDEX ix_webhook_deliveries_due ON webhook_deliveries (next_attempt_at)
    WHERE status = 'pending';

CREATE TABLE webhook_attempts (
    organization_id bigint NOT NULL REFERENCES organizations (id),
    id bigint GENERATED ALWAYS AS IDENTITY,
    delivery_id bigint NOT NULL,
    attempted_at timestamptz NOT NULL,
    status_code integer,
    duration_ms integer NOT NULL,
    error text,
    response_excerpt text,
    CONSTRAINT pk_webhook_attempts PRIMARY KEY (organization_id, id),
    CONSTRAINT fk_webhook_attempts_delivery_id_webhook_deliveries
        FOREIGN KEY (organization_id, delivery_id)
        REFERENCES webhook_deliveries (organization_id, id) ON DELETE CASCADE
);
CREATE INDEX ix_webhook_attempts_delivery ON webhook_attempts (organization_id, delivery_id, id);

-- What the scheduler's quote expiry looks for: sent quotes by their last valid day.
CREATE INDEX ix_quotes_sent_valid_until ON quotes (valid_until) WHERE status = 'sent';

CREATE TABLE scheduled_jobs (
    name text PRIMARY KEY,
    due_at timestamptz NOT NULL DEFAULT now(),
    last_run_at timestamptz,
    last_error text
)
"""

DOWNGRADE = """
DROP INDEX ix_quotes_sent_valid_until;
DROP TABLE scheduled_jobs;
DROP TABLE webhook_attempts;
DROP TABLE webhook_deliveries;
DROP TABLE webhook_endpoints
"""


def _execute(script: str) -> None:
    for statement in script.split(";\n"):
        if statement.strip():
            op.execute(statement)


def upgrade() -> None:
    _execute(UPGRADE)


def downgrade() -> None:
    _execute(DOWNGRADE)
