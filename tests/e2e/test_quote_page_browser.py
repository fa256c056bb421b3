"""The customer's quote page in a real headless Chromium, served by the real `salescore serve`
process on the test database: on a phone-sized screen the customer reads a sent quote and
signs it with the page's form alone, under its Content-Security-Policy, and the API then
shows the quote signed by that name.

See browser_support.py for what it needs."""

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from fastapi import FastAPI

from salescore.settings import Settings
from tests.e2e.browser_support import launched_chromium, serving_test_database

# isort: split
# (playwright only once browser_support has skipped the module without it)
from playwright.async_api import (
    Browser,
    ConsoleMessage,
    Page,
    ViewportSize,
    expect,
)

from tests.factories import Tenant
from tests.quote_flow import make_draft, quote_world, send, token_of

PHONE = ViewportSize(width=390, height=844)
SIGNER = "Ærlig Østbø Åsen"
LINE = "Ærlig Østbø Åsen consulting"  # the first line of make_draft's opportunity


@pytest.fixture(scope="module")
def base(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`salescore serve` on the test database, trusting the suite's tokens."""
    with serving_test_database(settings, tmp_path_factory.mktemp("browser") / "data") as url:
        yield url


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    async for launched in launched_chromium():
        yield launched


def csp_errors(page: Page) -> list[str]:
    """The Content-Security-Policy violations the page reports to its console from now on."""
    errors: list[str] = []

    def note(message: ConsoleMessage) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            errors.append(message.text)

    page.on("console", note)
    return errors


async def assert_fits(page: Page) -> None:
    """Styled (the nonce'd style block applied) and no wider than the screen."""
    await expect(page.locator("body")).to_have_css("background-color", "rgb(244, 245, 247)")
    scroll_width, inner_width = await page.evaluate(
        "[document.documentElement.scrollWidth, window.innerWidth]")
    assert inner_width == PHONE["width"]
    assert scroll_width <= inner_width, f"{page.url} scrolls sideways: {scroll_width} px"


async def test_a_customer_reads_and_signs_the_quote_on_a_phone(
        base: str, browser: Browser, app: FastAPI, tenant: Tenant):
    async with httpx.AsyncClient(base_url=base, timeout=30) as api:
        world = await quote_world(app, tenant)
        sent = await send(api, tenant, (await make_draft(api, app, tenant, world))["id"])
        link = f"{base}/q/{token_of(sent)}"
        async with await browser.new_context(viewport=PHONE, is_mobile=True,
                                             has_touch=True) as context:
            page = await context.new_page()
            refused = csp_errors(page)
            opened = await page.goto(link)
            assert opened is not None and opened.status == 200
            await expect(page.get_by_role("heading", name=f"Quote {sent['number']}")
                         ).to_be_visible()
            await expect(page.get_by_text(LINE)).to_be_visible()
            await assert_fits(page)

            sign = page.locator(f"form[action='/q/{token_of(sent)}/sign']")
            await sign.get_by_label("Your name").fill(SIGNER)
            await sign.get_by_label("Your e-mail address").fill("aerlig@kunde.test")
            async with page.expect_response(lambda r: r.request.method == "POST") as posted:
                await sign.get_by_role("button", name="Sign the quote").click()
            assert (await posted.value).status == 200
            await expect(page.get_by_text("The quote is signed")).to_be_visible()
            await assert_fits(page)

            await page.goto(link)
            await expect(page.get_by_text(f"Signed by {SIGNER}")).to_be_visible()
            assert await page.locator("form").count() == 0
            assert refused == []

        quote = (await api.get(f"/v1/quotes/{sent['id']}", headers=tenant.key)).json()
        assert (quote["status"], quote["signed_by_name"]) == ("signed", SIGNER)
        assert quote["signed_by_email"] == "aerlig@kunde.test"
        assert quote["signature_method"] == "link"
