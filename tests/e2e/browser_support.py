"""What the browser tests share: Debian's Chromium driven through Playwright (no browser of
Playwright's own is downloaded), and the real `salescore serve` on the test database,
trusting the suite's tokens. A module importing this is skipped without either: apt-get
install chromium (Debian) and pip install -e '.[dev]'."""

import os
import shutil
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from salescore.settings import Settings
from tests.e2e.server_process import env_with, serving

HOW = "apt-get install chromium (Debian) and pip install -e '.[dev]'"
pytest.importorskip("playwright", reason=f"no playwright package: {HOW}")
from playwright.async_api import Browser, async_playwright  # noqa: E402

CHROMIUM = shutil.which("chromium")
if CHROMIUM is None:
    pytest.skip(f"no chromium on PATH: {HOW}", allow_module_level=True)


@contextmanager
def serving_test_database(settings: Settings, data_dir: Path) -> Iterator[str]:
    """`salescore serve` on the test database for the block; yields its base URL."""
    assert settings.database_url
    env = env_with(database_url=settings.database_url, jwt_secret=settings.signing_secret,
                   data_dir=str(data_dir), log_level="warning")
    with serving(env) as (url, _):
        yield url


async def launched_chromium() -> AsyncIterator[Browser]:
    """Headless Chromium for the module (as root, without its sandbox)."""
    args = ["--no-sandbox"] if os.geteuid() == 0 else []
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                                    args=args)
        yield launched
        await launched.close()
