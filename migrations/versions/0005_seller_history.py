"""Seller shares over time: `opportunity_seller_history`, kept by a trigger on
`opportunity_sellers`, so that the pipeline of a past day can be split by seller.

Shares that exist when the migration runs are taken to have been held since their
opportunity was created (nothing older is known).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

UPGRADE = (
    """
CREATE TABLE opportunity_seller_history (
    organization_id bigint NOT NULL REFERENCES organizations (id),
    id bigint GENERATED ALWAYS AS IDENTITY,
    opportunity_id bigint NOT NULL,
    user_id bigint NOT NULL,
    share numeric(5, 2) NOT NULL,
    valid_from timestamptz NOT NULL DEFAULT now(),
    valid_to timestamptz,
    CONSTRAINT pk_opportunity_seller_history PRIMARY KEY (organization_id, id)
)
""",
    """
CREATE INDEX ix_opportunity_seller_history_opportunity ON opportunity_seller_history (
    organization_id, opportunity_id, valid_from)
""",
    """
CREATE INDEX ix_opportunity_seller_history_current ON opportunity_seller_history (
    organization_id, opportunity_id, user_id) WHERE valid_to IS NULL
""",
    """
CREATE FUNCTION record_opportunity_seller_history() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE opportunity_seller_history SET valid_to = now()
        WHERE organization_id = OLD.organization_id AND opportunity_id = OLD.opportunity_id
          AND user_id = OLD.user_id AND valid_to IS NULL;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO opportunity_seller_history (organization_id, opportunity_id, user_id, share)
        VALUES (NEW.organization_id, NEW.opportunity_id, NEW.user_id, NEW.share);
    END IF;
    RETURN NULL;
END
$$
""",
    """
CREATE TRIGGER tr_opportunity_sellers_history_insert AFTER INSERT ON opportunity_sellers
    FOR EACH ROW EXECUTE FUNCTION record_opportunity_seller_history()
""",
    """
CREATE TRIGGER tr_opportunity_sellers_history_update AFTER UPDATE ON opportunity_sellers
    FOR EACH ROW WHEN (ROW(OLD.user_id, OLD.share) IS DISTINCT FROM ROW(NEW.user_id, NEW.share))
    EXECUTE FUNCTION record_opportunity_seller_history()
""",
    """
CREATE TRIGGER tr_opportunity_sellers_history_delete AFTER DELETE ON opportunity_sellers
    FOR EACH ROW EXECUTE FUNCTION record_opportunity_seller_history()
""",
    """
INSERT INTO opportunity_seller_history (organization_id, opportunity_id, user_id, share,
                                        valid_from)
SELECT s.organization_id, s.opportunity_id, s.user_id, s.share, o.created_at
FROM opportunity_sellers s
JOIN opportunities o ON o.organization_id = s.organization_id AND o.id = s.opportunity_id
""",
)


def upgrade() -> None:
    for statement in UPGRADE:  # one at a time: a prepared statement holds one command
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP TABLE opportunity_seller_history")
    op.execute("DROP FUNCTION record_opportunity_seller_history() CASCADE")
