"""The guide in docs/ stays true and whole: its webhook verification example accepts what
the service's signing library signs and refuses what it must, the page shows the example
files exactly as they are, every relative link leads to a file, and the guide stands on
its own (no reference to material outside the repository). No database is needed."""

import base64
import importlib.util
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType

import pytest
from standardwebhooks import Webhook

DOCS = Path(__file__).resolve().parent.parent / "docs"
EXAMPLES = DOCS / "examples"
WEBHOOK_PAGE = DOCS / "change-feed-and-webhooks.md"
SECRET = "whsec_" + base64.b64encode(bytes(range(32))).decode()
OTHER_SECRET = "whsec_" + base64.b64encode(bytes(range(32, 64))).decode()
BODY = ('{"id":26,"type":"opportunity.won","aggregate_type":"opportunity","aggregate_id":2,'
        '"occurred_at":"2026-12-07T20:13:51.766326Z","actor":{"id":1,"type":"user"},'
        '"data":{"name":"Fjordbåt AS","changes":{}}}').encode()
Verify = Callable[[str, Mapping[str, str], bytes], bool]


def _example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("verify_webhook", EXAMPLES / "verify_webhook.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def verify() -> Verify:
    found: Verify = _example().verify
    return found


def _signed(secret: str, body: bytes, *, message_id: str = "26",
            at: datetime | None = None) -> dict[str, str]:
    """The headers the service sends with `body`, signed by the standardwebhooks package as
    the service signs them."""
    moment = at or datetime.now(UTC)
    return {"webhook-id": message_id, "webhook-timestamp": str(int(moment.timestamp())),
            "webhook-signature": Webhook(secret).sign(message_id, moment, body),
            "content-type": "application/json"}


def test_a_signed_message_is_accepted(verify: Verify) -> None:
    assert verify(SECRET, _signed(SECRET, BODY), BODY)


def test_a_test_message_with_its_msg_id_is_accepted(verify: Verify) -> None:
    body = b'{"type":"webhook.test","timestamp":"2026-12-07T20:13:51Z","data":{"endpoint_id":1}}'
    assert verify(SECRET, _signed(SECRET, body, message_id="msg_mHxF_rhXmjanGsrzHWtuUAfN"), body)


def test_header_names_are_read_whatever_their_case(verify: Verify) -> None:
    headers = {name.title(): value for name, value in _signed(SECRET, BODY).items()}
    assert verify(SECRET, headers, BODY)


@pytest.mark.parametrize("tampered", [
    BODY.replace(b'"id":26', b'"id":27'),
    BODY + b"\n",
    BODY.replace("Fjordbåt".encode(), b"Fjordbat"),
])
def test_a_changed_body_is_refused(verify: Verify, tampered: bytes) -> None:
    assert not verify(SECRET, _signed(SECRET, BODY), tampered)


def test_another_message_id_is_refused(verify: Verify) -> None:
    headers = _signed(SECRET, BODY) | {"webhook-id": "27"}
    assert not verify(SECRET, headers, BODY)


def test_another_secret_is_refused(verify: Verify) -> None:
    assert not verify(OTHER_SECRET, _signed(SECRET, BODY), BODY)


@pytest.mark.parametrize("offset", [timedelta(minutes=-10), timedelta(minutes=10),
                                    timedelta(days=-1)])
def test_a_timestamp_more_than_five_minutes_off_is_refused(verify: Verify,
                                                          offset: timedelta) -> None:
    headers = _signed(SECRET, BODY, at=datetime.now(UTC) + offset)
    assert Webhook(SECRET).sign("26", datetime.now(UTC) + offset, BODY) == \
        headers["webhook-signature"]  # genuinely signed, only at another time
    assert not verify(SECRET, headers, BODY)


def test_a_timestamp_a_little_off_is_accepted(verify: Verify) -> None:
    assert verify(SECRET, _signed(SECRET, BODY, at=datetime.now(UTC) - timedelta(minutes=4)),
                  BODY)


def test_a_timestamp_that_is_not_a_number_of_seconds_is_refused(verify: Verify) -> None:
    headers = _signed(SECRET, BODY)
    for stamp in ("", "soon", "1.5e9", "-1", headers["webhook-timestamp"] + ".0"):
        assert not verify(SECRET, headers | {"webhook-timestamp": stamp}, BODY)


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_a_missing_header_is_refused(verify: Verify, missing: str) -> None:
    headers = _signed(SECRET, BODY)
    del headers[missing]
    assert not verify(SECRET, headers, BODY)


def test_during_a_rotation_either_secret_verifies_the_two_signatures(verify: Verify) -> None:
    """The service sends the new and the previous secret's signatures, space-separated."""
    now = datetime.now(UTC)
    both = " ".join(Webhook(s).sign("26", now, BODY) for s in (OTHER_SECRET, SECRET))
    headers = _signed(SECRET, BODY, at=now) | {"webhook-signature": both}
    assert verify(SECRET, headers, BODY)
    assert verify(OTHER_SECRET, headers, BODY)
    assert not verify("whsec_" + base64.b64encode(b"x" * 32).decode(), headers, BODY)


def test_a_signature_of_another_version_is_not_taken(verify: Verify) -> None:
    headers = _signed(SECRET, BODY)
    v2 = "v2," + headers["webhook-signature"].removeprefix("v1,")
    assert not verify(SECRET, headers | {"webhook-signature": v2}, BODY)


def test_the_library_and_the_example_agree_on_what_they_accept(verify: Verify) -> None:
    headers = _signed(SECRET, BODY)
    assert Webhook(SECRET).verify(BODY, headers)["id"] == 26
    assert verify(SECRET, headers, BODY)


def _code_blocks(markdown: str) -> list[str]:
    return re.findall(r"^```[a-z]*\n(.*?)^```$", markdown, flags=re.MULTILINE | re.DOTALL)


@pytest.mark.parametrize("example", ["verify_webhook.py", "verify_webhook.ts"])
def test_the_webhook_page_shows_each_example_file_as_it_is(example: str) -> None:
    blocks = _code_blocks(WEBHOOK_PAGE.read_text(encoding="utf-8"))
    assert (EXAMPLES / example).read_text(encoding="utf-8") in blocks


def test_the_typescript_example_exports_the_documented_function() -> None:
    source = (EXAMPLES / "verify_webhook.ts").read_text(encoding="utf-8")
    assert re.search(r"export function verifyWebhook\(\s*secret: string,\s*headers: "
                     r"Record<string, string>,\s*body: string,?\s*\): boolean", source)
    assert 'from "node:crypto"' in source
    assert not re.search(r"^import .* from \"(?!node:)", source, flags=re.MULTILINE)


def _pages() -> list[Path]:
    return sorted(DOCS.rglob("*.md"))


def test_the_guide_has_its_pages() -> None:
    names = {p.relative_to(DOCS).as_posix() for p in _pages()}
    assert names >= {"README.md", "concepts.md", "shares-and-follow-ups.md", "money.md",
                     "lists.md", "writes.md", "change-feed-and-webhooks.md",
                     "imports-leads-exports.md", "erp.md"}


def test_every_relative_link_leads_to_a_file() -> None:
    broken = []
    for page in _pages():
        text = page.read_text(encoding="utf-8")
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
                continue
            path = target.split("#", 1)[0]
            if not (page.parent / path).resolve().is_file():
                broken.append(f"{page.relative_to(DOCS)} -> {target}")
    assert broken == []


def test_the_index_links_every_page() -> None:
    index = (DOCS / "README.md").read_text(encoding="utf-8")
    for page in _pages():
        if page.name != "README.md":
            assert f"]({page.relative_to(DOCS).as_posix()})" in index, page.name


def test_the_guide_stands_on_its_own() -> None:
    for path in sorted(p for p in DOCS.rglob("*") if p.is_file()):
        text = path.read_text(encoding="utf-8")
        for outside in ("../shared", "spec/", "/work/"):
            assert outside not in text, f"{path.relative_to(DOCS)} mentions {outside!r}"
