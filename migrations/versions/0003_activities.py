"""Activities, notifications and the organization's follow-up settings.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

UPGRADE = """
ALTER TABLE organizations
    ADD COLUMN reminder_task_enabled boolean NOT NULL DEFAULT true,
    ADD COLUMN reminder_task_days integer NOT NULL DEFAULT 1
        CHECK (reminder_task_days BETWEEN 0 AND 365),
    ADD COLUMN stagnant_days integer NOT NULL DEFAULT 30 CHECK (stagnant_days BETWEEN 1 AND 3650);

CREATE TABLE activities (
    organization_id bigint NOT NULL REFERENCES organizations (id),
    id bigint GENERATED ALWAYS AS IDENTITY,
    kind text NOT NULL CHECK (kind IN ('task', 'appointment', 'call', 'note')),
    subject text NOT NULL CHECK (subject <> ''),
    text text,
    due_at timestamptz,
    starts_at timestamptz,
    ends_at timestamptz,
    done boolean NOT NULL DEFAULT false,
    done_at timestamptz,
    assignee_id bigint,
    customer_id bigint,
    contact_id bigint,
    opportunity_id bigint,
    origin text NOT NULL DEFAULT 'manual'
        CHECK (origin IN ('manual', 'follow_up', 'opportunity_created')),
    created_at timestamptz NOT NULL DEFAULT now(),
    created_by bigint,
    updated_at timestamptz NOT NULL DEFAULT now(),
    version integer NOT NULL DEFAULT 1,
    CONSTRAINT pk_activities PRIMARY KEY (organization_id, id),
    CONSTRAINT ck_activities_period CHECK (ends_at IS NULL OR starts_at IS NULL
                                           OR starts_at < ends_at),
    CONSTRAINT ck_activities_done CHECK (done = (done_at IS NOT NULL)),
    CONSTRAINT fk_activities_assignee_id_users FOREIGN KEY (organization_id, assignee_id)
        REFERENCES users (organization_id, id),
    CONSTRAINT fk_activities_customer_id_customers FOREIGN KEY (organization_id, customer_id)
        REFERENCES customers (organization_id, id) ON DELETE SET NULL (customer_id),
    CONSTRAINT fk_activities_contact_id_contacts FOREIGN KEY (organization_id, contact_id)
        REFERENCES contacts (organization_id, id) ON DELETE SET NULL (contact_id),
    CONSTRAINT fk_activities_opportunity_id_opportunities
        FOREIGN KEY (organization_id, opportunity_id)
        REFERENCES opportunities (organization_id, id) ON DELETE SET NULL (opportunity_id)
);
CREATE INDEX ix_activities_assignee_starts ON activities (organization_id, assignee_id,
                                                          starts_at, id);
CREATE INDEX ix_activities_assignee_due ON activities (organization_id, assignee_id, due_at, id);
CREATE INDEX ix_activities_opportunity ON activities (organization_id, opportunity_id, id)
    WHERE opportunity_id IS NOT NULL;
CREATE INDEX ix_activities_customer ON activities (organization_id, customer_id, id)
    WHERE customer_id IS NOT NULL;

CREATE TABLE notifications (
    organization_id bigint NOT NULL REFERENCES organizations (id),
    id bigint GENERATED ALWAYS AS IDENTITY,
    user_id bigint NOT NULL,
    type text NOT NULL,
    opportunity_id bigint,
    activity_id bigint,
    quote_id bigint,
    text text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    read_at timestamptz,
    CONSTRAINT pk_notifications PRIMARY KEY (organization_id, id),
    CONSTRAINT fk_notifications_user_id_users FOREIGN KEY (organization_id, user_id)
        REFERENCES users (organization_id, id) ON DELETE CASCADE
);
CREATE INDEX ix_notifications_user ON notifications (organization_id, user_id, id);
CREATE INDEX ix_notifications_unread ON notifications (organization_id, user_id, id)
    WHERE read_at IS NULL;
"""

DOWNGRADE = """
DROP TABLE notifications;
DROP TABLE activities;
ALTER TABLE organizations
    DROP COLUMN stagnant_days,
    DROP COLUMN reminder_task_days,
    DROP COLUMN reminder_task_enabled;
"""


def _execute(script: str) -> None:
    for statement in script.split(";\n"):
        if statement.strip():
            op.execute(statement)


def upgrade() -> None:
    _execute(UPGRADE)


def downgrade() -> None:
    _execute(DOWNGRADE)
