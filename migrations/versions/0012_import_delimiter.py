"""An import remembers its CSV file's delimiter, so that the file of its failed rows is
written with the same one (a `;` file comes back as a `;` file, decimal commas and all).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-08
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE imports ADD COLUMN delimiter text "
               "CONSTRAINT ck_imports_delimiter CHECK (delimiter IN (',', ';'))")


def downgrade() -> None:
    op.execute("ALTER TABLE imports DROP COLUMN delimiter")
