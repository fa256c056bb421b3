"""Fixtures of the tests that run the real `salescore` command."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.server_process import stop_orphan_postgres


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[Path]:
    """A data dir for the test; an embedded PostgreSQL left running on it is stopped after."""
    path = tmp_path / "data"
    yield path
    stop_orphan_postgres(path)
