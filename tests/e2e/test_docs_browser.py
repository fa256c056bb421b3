"""/docs and /redoc in a real headless Chromium, served by the real `salescore serve`
process: each shows the API's operations with every file it loads coming from the service
itself (nothing asked of a CDN), under its Content-Security-Policy.

See browser_support.py for what it needs."""

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import pytest

from salescore.settings import Settings
from tests.e2e.browser_support import launched_chromium, serving_test_database

# isort: split
# (playwright only once browser_support has skipped the module without it)
from playwright.async_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Request,
    Route,
    expect,
)

# Redoc's sidebar shows this logo; the page's policy refuses it before it is asked for.
REDOCLY_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"
RENDERED_WITHIN_MS = 30_000  # the spec is large, and a busy machine slow to lay it out


@pytest.fixture(scope="module")
def base(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serving_test_database(settings, tmp_path_factory.mktemp("docs-browser") / "data") as url:
        yield url


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    async for launched in launched_chromium():
        yield launched


@dataclass
class Watched:
    """What a page asked for and said while it loaded."""

    requested: list[str] = field(default_factory=list)
    sent_elsewhere: list[str] = field(default_factory=list)  # reached the network: refused
    refused_by_policy: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)


async def watch(context: BrowserContext, page: Page, base: str) -> Watched:
    """Records every request and console error; a request for another host that gets as
    far as the network is aborted (and recorded)."""
    seen = Watched()

    async def only_here(route: Route) -> None:
        if route.request.url.startswith(base + "/"):
            await route.continue_()
        else:
            seen.sent_elsewhere.append(route.request.url)
            await route.abort("blockedbyclient")

    def failed(request: Request) -> None:
        if request.failure == "csp":
            seen.refused_by_policy.append(request.url)

    def console(message: ConsoleMessage) -> None:
        if message.type == "error":
            seen.console_errors.append(message.text)

    await context.route("**/*", only_here)
    page.on("request", lambda request: seen.requested.append(request.url))
    page.on("requestfailed", failed)
    page.on("console", console)
    return seen


@asynccontextmanager
async def opened(browser: Browser, base: str, path: str) -> AsyncIterator[tuple[Page, Watched]]:
    """The page at `path`, answered 200, in a context of its own, watched from the start."""
    async with await browser.new_context() as context:
        page = await context.new_page()
        seen = await watch(context, page, base)
        answer = await page.goto(base + path)
        assert answer is not None and answer.status == 200
        yield page, seen


def _is_own(url: str, base: str) -> bool:
    return url.startswith((base + "/", f"blob:{base}/", "data:"))


async def test_swagger_ui_lists_the_operations_from_the_service_alone(base: str,
                                                                      browser: Browser):
    async with opened(browser, base, "/docs") as (page, seen):
        create = page.locator(
            '.opblock-post:has(.opblock-summary-path[data-path="/v1/opportunities"])')
        await expect(create.locator(".opblock-summary-description")).not_to_be_empty(
            timeout=RENDERED_WITHIN_MS)
        await create.locator(".opblock-summary-control").click()
        await expect(create.get_by_role("button", name="Try it out")).to_be_visible()
        assert f"{base}/openapi.json" in seen.requested
        assert [url for url in seen.requested if not _is_own(url, base)] == []
        assert seen.sent_elsewhere == []
        assert seen.console_errors == []


async def test_redoc_lists_the_operations_and_asks_nothing_of_another_host(base: str,
                                                                           browser: Browser):
    async with opened(browser, base, "/redoc") as (page, seen):
        await expect(page.get_by_role("heading", name="salescore")).to_be_visible(
            timeout=RENDERED_WITHIN_MS)
        await expect(page.locator("[data-section-id^='tag/opportunities/operation/']").first
                     ).to_be_attached()
        assert [url for url in seen.requested if not _is_own(url, base)] in [[], [REDOCLY_LOGO]]
        assert seen.refused_by_policy in [[], [REDOCLY_LOGO]]
        assert seen.sent_elsewhere == []
        assert [error for error in seen.console_errors
                if REDOCLY_LOGO not in error] == []
