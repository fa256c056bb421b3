"""The migration stairway: every revision upgrades, downgrades and upgrades again."""

import asyncio
import secrets

import asyncpg
from alembic.script import ScriptDirectory

from salescore.database_server import alembic_config, create_database, downgrade, migrate
from tests.databases import drop_database, with_database


def test_every_revision_goes_down_and_up_again(admin_dsn: str):
    name = f"salescore_stairway_{secrets.token_hex(4)}"
    asyncio.run(create_database(admin_dsn, name))
    url = with_database(admin_dsn, name, "asyncpg")
    try:
        script = ScriptDirectory.from_config(alembic_config(url))
        revisions = [r.revision for r in reversed(list(script.walk_revisions()))]
        for revision in revisions:
            migrate(url, revision)
            downgrade(url, "-1")
            migrate(url, revision)
        downgrade(url, "base")
        assert asyncio.run(_tables(with_database(admin_dsn, name))) == {"alembic_version"}
        migrate(url)
    finally:
        asyncio.run(drop_database(admin_dsn, name))


async def _tables(dsn: str) -> set[str]:
    connection = await asyncpg.connect(dsn)
    try:
        rows = await connection.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        return {r["tablename"] for r in rows}
    finally:
        await connection.close()
