"""Quote templates, quotes, the documents a signed quote leaves, the e-mails that carry a
quote, and the e-signature providers with the log of their callbacks.

- A quote keeps its frozen copy (`content`: lines, totals, the template's texts, seller and
  customer as they were) from the moment it is made; `number` comes from the
  organization's gapless `quote_counters` row, taken in the send transaction.
- The public link's token is stored only as `token_hash`, unique across organizations:
  the link alone finds its quote.
- A document holds its bytes (`content`) in PostgreSQL, with their SHA-256 and size.
- An e-mailed quote is logged as a note on its opportunity (`origin` `quote_email`).
- A queued e-mail holds the finished message (`message`) until it is sent or has failed.
- An e-signature provider keeps its secret encrypted (`secret_encrypted`); after a rotation
  the previous one stays valid until `previous_secret_expires_at`.
- A callback is logged once per delivery (`webhook_id`) a verified provider sent; the
  unique index makes a replay find the first.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

UPGRADE = """
ALTER TABLE activities DROP CONSTRAINT activities_origin_check;
ALTER TABLE activities ADD CONSTRAINT activities_origin_check
    CHECK (origin IN ('manual', 'follow_up', 'opportunity_created', 'quote_email'));

CREATE TABLE quote_templates (
    organization_id bigint NOT NULL REFERENCES organizations (id),
    id bigint GENERATED ALWAYS AS IDENTITY,
    name text NOT NULL CHECK (name <> ''),
    header_text text,
    footer_text text,
    terms text,
    accent_color text CHECK (accent_color ~ '^#[0-9A-Fa-f]{6}$'),
    email_subject text,
    email_message text,
    active boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    created_by bigint,
    updated_at timestamptz NOT NULL DEFAULT now(),
    updated_by bigint,
    version integer NOT NULL DEFAULT 1,
    CONSTRAINT pk_quote_templates PRIMARY KEY (organization_id, id)
);
CREATE UNIQUE INDEX uq_quote_templates_organization_id_name ON quote_templates (organization_id,
                                                                                lower(name));

CREATE TABLE quote_counters (
    organization_id bigint NOT NULL REFERENCES organizations (id),
    last_number bigint NOT NULL DEFAULT 0,
    CONSTRAINT pk_quote_counters PRIMARY KEY (organization_id)
);

CREATE TABLE quotes (
    organization_id bigint NOT NULL REFERENCES organizations (id),
    id bigint GENERATED ALWAYS AS IDENTITY,
    opportunity_id bigint NOT NULL,
    customer_id bigint NOT NULL,
    contact_id bigint,
    template_id bigint NOT NULL,
    number text,
    status text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'sent', 'signed',
        'change_requested', 'rejected', 'expired', 'superseded')),
    currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    content jsonb NOT NULL,
    discount_percent numeric(5, 2) NOT NULL,
    lines_total numeric(18, 2) NOT NULL,
    discount_amount numeric(18, 2) NOT NULL,
    total numeric(18, 2) NOT NULL,
    valid_until date NOT NULL,
    note text,
    content_sha256 text,
    token_hash text,
    sent_at timestamptz,
    viewed_at timestamptz,
    responded_at timestamptz,
    response_comment text,
    signed_by_name text,
    signed_by_email text,
    signed_ip text,
    signed_user_agent text,
    signature_method text,
    created_at timestamptz NOT NULL DEFAULT now(),
    created_by bigint,
    updated_at timestamptz NOT NULL DEFAULT now(),
    updated_by bigint,
    version integer NOT NULL DEFAULT 1,
    CONSTRAINT pk_quotes PRIMARY KEY (organization_id, id),
    CONSTRAINT uq_quotes_organization_id_number UNIQUE (organization_id, number),
    CONSTRAINT ck_quotes_sent CHECK ((status = 'draft') = (number IS NULL)),
    CONSTRAINT fk_quotes_opportunity_id_opportunities FOREIGN KEY (organization_id, opportunity_id)
        REFERENCES opportunities (organization_id, id) ON DELETE CASCADE,
    CONSTRAINT fk_quotes_customer_id_customers FOREIGN KEY (organization_id, customer_id)
        REFERENCES customers (organization_id, id),
    CONSTRAINT fk_quotes_contact_id_contacts FOREIGN KEY (organization_id, contact_id)
        REFERENCES contacts (organization_id, id) ON DELETE SET NULL (contact_id),
    CONSTRAINT fk_quotes_template_id_quote_templates FOREIGN KEY (organization_id, template_id)
        REFERENCES quote_templates (organization_id, id)
);
CREATE UNIQUE INDEX uq_quotes_token_hash ON quotes (token_hash) WHERE token_hash IS NOT NULL;
CREATE INDEX ix_quotes_opportunity ON quotes (organization_id, opportunity_id, id);
CREATE INDEX ix_quotes_customer ON quotes (organization_id, customer_id, id);
-- For the foreign keys' checks on delete and `in_use`: a template, a contact, a quote.
CREATE INDEX ix_quotes_template ON quotes (organization_id, template_id);
CREATE INDEX ix_quotes_contact ON quotes (organization_id, contact_id)
    WHERE contact_id IS NOT NULL;

CREATE TABLE documents (
    organization_id bigint NOT NULL REFERENCES organizations (id),
    id bigint GENERATED ALWAYS AS IDENTITY,
    opportunity_id bigint NOT NULL,
    quote_id bigint,
    kind text NOT NULL CHECK (kind IN ('signed_quote')),
    file_name text NOT NULL,
    content_type text NOT NULL,
    size integer NOT NULL CHECK (size >= 0),
    sha256 text NOT NULL,
    content bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT pk_documents PRIMARY KEY (organization_id, id),
    CONSTRAINT fk_documents_opportunity_id_opportunities
        FOREIGN KEY (organization_id, opportunity_id)
        REFERENCES opportunities (organization_id, id) ON DELETE CASCADE,
    CONSTRAINT fk_documents_quote_id_quotes FOREIGN KEY (organization_id, quote_id)
        REFERENCES quotes (organization_id, id) ON DELETE SET NULL (quote_id)
);
CREATE INDEX ix_documents_opportunity ON documents (organization_id, opportunity_id, id);
CREATE INDEX ix_documents_quote ON documents (organization_id, quote_id)
    WHERE quote_id IS NOT NULL;

CREATE TABLE quote_emails (
    organization_id bigint NOT NULL REFERENCES organizations (id),
    id bigint GENERATED ALWAYS AS IDENTITY,
    quote_id bigint NOT NULL,
    "to" text[] NOT NULL,
    cc text[] NOT NULL DEFAULT '{}',
    subject text NOT NULL,
    message bytea,
    status text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sent', 'failed')),
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    sent_at timestamptz,
    error text,
    created_at timestamptz NOT NULL DEFAULT now(),
    created_by bigint,
    CONSTRAINT pk_quote_emails PRIMARY KEY (organization_id, id),
    CONSTRAINT ck_quote_emails_message CHECK ((status = 'queued') = (message IS NOT NULL)),
    CONSTRAINT fk_quote_emails_quote_id_quotes FOREIGN KEY (organization_id, quote_id)
        REFERENCES quotes (organization_id, id) ON DELETE CASCADE
);
CREATE INDEX ix_quote_emails_quote ON quote_emails (organization_id, quote_id, id);
CREATE INDEX ix_quote_emails_queued ON quote_emails (next_attempt_at) WHERE status = 'queued';

CREATE TABLE esign_providers (
    organization_id bigint NOT NULL REFERENCES organizations (id),
    id bigint GENERATED ALWAYS AS IDENTITY,
    name text NOT NULL CHECK (name <> ''),
    kind text NOT NULL CHECK (kind IN ('standard_webhooks', 'docusign_connect')),
    active boolean NOT NULL DEFAULT true,
    secret_encrypted text NOT NULL,
    previous_secret_encrypted text,
    previous_secret_expires_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    created_by bigint,
    updated_at timestamptz NOT NULL DEFAULT now(),
    version integer NOT NULL DEFAULT 1,
    CONSTRAINT pk_esign_providers PRIMARY KEY (organization_id, id)
);
-- A callback names its provider by id alone (its address carries no organization).
CREATE UNIQUE INDEX uq_esign_providers_id ON esign_providers (id);

CREATE TABLE esign_callbacks (
    organization_id bigint NOT NULL REFERENCES organizations (id),
    id bigint GENERATED ALWAYS AS IDENTITY,
    provider_id bigint NOT NULL,
    webhook_id text,
    received_at timestamptz NOT NULL DEFAULT now(),
    type text,
    quote_id bigint,
    verified boolean NOT NULL,
    applied boolean NOT NULL DEFAULT false,
    reason text,
    CONSTRAINT pk_esign_callbacks PRIMARY KEY (organization_id, id),
    CONSTRAINT fk_esign_callbacks_provider_id_esign_providers
        FOREIGN KEY (organization_id, provider_id)
        REFERENCES esign_providers (organization_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX uq_esign_callbacks_delivery ON esign_callbacks (organization_id, provider_id,
                                                                    webhook_id)
    WHERE verified;
CREATE INDEX ix_esign_callbacks_provider ON esign_callbacks (organization_id, provider_id, id)
"""

DOWNGRADE = """
DROP TABLE esign_callbacks;
DROP TABLE esign_providers;
DROP TABLE quote_emails;
DROP TABLE documents;
DROP TABLE quotes;
DROP TABLE quote_counters;
DROP TABLE quote_templates;
UPDATE activities SET origin = 'manual' WHERE origin = 'quote_email';
ALTER TABLE activities DROP CONSTRAINT activities_origin_check;
ALTER TABLE activities ADD CONSTRAINT activities_origin_check
    CHECK (origin IN ('manual', 'follow_up', 'opportunity_created'))
"""


def _execute(script: str) -> None:
    for statement in script.split(";\n"):
        if statement.strip():
            op.execute(statement)


def upgrade() -> None:
    _execute(UPGRADE)


def downgrade() -> None:
    _execute(DOWNGRADE)
