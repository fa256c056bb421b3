"""The rules of outbound webhooks that need no database: where an endpoint may point, the
types it takes, its secret, and what enabling and disabling it change."""

import base64
from datetime import UTC, datetime
from ipaddress import IPv4Address, IPv6Address, ip_address

import pytest
from hypothesis import given
from hypothesis import strategies as st

from salescore.domain.errors import Conflict, InvalidInput
from salescore.domain.events import EVENT_TYPES
from salescore.domain.integrations.webhooks import (
    DISABLED_BY_API,
    SECRET_BYTES,
    Endpoint,
    check_deliverable,
    check_event_types,
    check_url,
    edited,
    literal_address,
    new_secret,
    refused_address,
)

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
CLASSES = {
    "loopback": ["127.0.0.0/8", "::1/128"],
    "private": ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"],
    "link-local": ["169.254.0.0/16", "fe80::/10"],
    "carrier-grade NAT": ["100.64.0.0/10"],
    "multicast": ["224.0.0.0/4", "ff00::/8"],
    "reserved": ["240.0.0.0/4"],
}
PUBLIC = ["8.0.0.0/8", "1.0.0.0/8", "2606:4700::/32", "2a00:1450::/32"]


def _addresses(networks: list[str]) -> st.SearchStrategy[IPv4Address | IPv6Address]:
    return st.one_of(*[st.ip_addresses(network=n) for n in networks])


def _refused(url: str, *, allow_private: bool = False) -> str:
    with pytest.raises(InvalidInput) as refused:
        check_url(url, allow_private=allow_private)
    assert [e.field for e in refused.value.errors] == ["url"]
    return refused.value.errors[0].message


@pytest.mark.parametrize("kind", sorted(CLASSES))
@given(data=st.data())
def test_every_address_of_a_refused_class_is_refused_as_such(kind: str, data: st.DataObject):
    address = data.draw(_addresses(CLASSES[kind]))
    reason = refused_address(address)
    assert reason is not None and kind in reason, (address, reason)


@given(_addresses(PUBLIC))
def test_public_unicast_addresses_are_allowed(address: IPv4Address | IPv6Address):
    assert refused_address(address) is None


@given(st.ip_addresses(v=4))
def test_an_ipv4_mapped_ipv6_address_is_refused_whatever_it_maps(address: IPv4Address):
    mapped = IPv6Address(f"::ffff:{address}")
    assert refused_address(mapped) == "an IPv4-mapped IPv6 address"


@given(st.ip_addresses())
def test_only_globally_reachable_addresses_are_allowed(address: IPv4Address | IPv6Address):
    if refused_address(address) is None:
        assert address.is_global and not address.is_multicast


def test_the_metadata_and_unspecified_addresses_are_refused():
    assert refused_address(ip_address("169.254.169.254")) == "a link-local address"
    assert refused_address(ip_address("0.0.0.0")) == "an unspecified address"
    assert refused_address(ip_address("::")) == "an unspecified address"
    assert refused_address(ip_address("2002:7f00:1::")) is not None  # 6to4 of 127.0.0.1
    assert refused_address(ip_address("2002:808:808::")) is None  # 6to4 of 8.8.8.8


@pytest.mark.parametrize(("host", "address"), [
    ("127.0.0.1", "127.0.0.1"), ("127.1", "127.0.0.1"), ("2130706433", "127.0.0.1"),
    ("0x7f.0.0.1", "127.0.0.1"), ("0177.0.0.01", "127.0.0.1"), ("10.1.", "10.0.0.1"),
    ("0x", "0.0.0.0"), ("::1", "::1"), ("example.com", None), ("1.2.3.example", None),
])
def test_a_host_is_an_address_in_every_form_url_parsers_read_as_one(host: str,
                                                                    address: str | None):
    assert literal_address(host) == (None if address is None else ip_address(address))


@pytest.mark.parametrize("url", [
    "https://example.com/hooks", "https://erp.example.com:8443/a?b=c",
    "HTTPS://Example.COM/x", "https://8.8.8.8/", "https://[2606:4700::1]/in",
    "https://bücher.example/", "https://a_b.example.com/",
])
def test_an_https_url_of_a_public_host_is_accepted(url: str):
    assert check_url(url, allow_private=False) == url


@pytest.mark.parametrize(("url", "message"), [
    ("http://example.com/", "https://"), ("ftp://example.com/", "absolute"),
    ("/hooks", "absolute"), ("example.com/hooks", "absolute"), ("https://", "absolute"),
    ("https://user:pass@example.com/", "user name"), ("https://user@example.com/", "user"),
    ("https://example.com:0/", "port 0"), ("https://example.com:99999/", "not a valid"),
    ("https://[nope]/", "not a valid"), ("https://exa mple.com/", "spaces"),
    ("https://example.com\\@evil.test/", "backslashes"), ("https://a.com/\x00", "control"),
    ("https://" + "a" * 2040 + ".com/", "2048"), ("https://exa%41mple.com/", "neither"),
    ("https://256.1.1.1/", "neither"), ("https://1.2.3.4.5/", "neither"),
    ("https://foo.123/", "neither"), ("https://localhost/", "localhost"),
    ("https://api.localhost:8000/", "localhost"), ("https://127.0.0.1/", "loopback"),
    ("https://127.1/", "loopback"), ("https://0x7f000001/", "loopback"),
    ("https://[::1]/", "loopback"), ("https://10.1.2.3/", "private"),
    ("https://172.16.0.1/", "private"), ("https://192.168.1.1/", "private"),
    ("https://[fd00::1]/", "private"), ("https://169.254.169.254/latest", "link-local"),
    ("https://[fe80::1%25eth0]/", "link-local"), ("https://100.64.0.1/", "carrier-grade"),
    ("https://224.0.0.1/", "multicast"), ("https://[ff02::1]/", "multicast"),
    ("https://240.0.0.1/", "reserved"), ("https://0.0.0.0/", "unspecified"),
    ("https://[::ffff:8.8.8.8]/", "IPv4-mapped"), ("https://[::ffff:127.0.0.1]/", "mapped"),
])
def test_a_url_that_breaks_a_rule_is_refused_naming_url(url: str, message: str):
    assert message in _refused(url)


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/hook", "https://10.0.0.5/",
                                 "http://localhost/", "https://[::1]/",
                                 "http://169.254.169.254/"])
def test_private_networks_allowed_let_http_and_private_hosts_through(url: str):
    assert check_url(url, allow_private=True) == url


@pytest.mark.parametrize("url", ["ftp://example.com/", "http://user@localhost/",
                                 "http://[nope]/", "http://999.1.1.1/"])
def test_private_networks_allowed_still_refuse_what_is_no_http_url(url: str):
    _refused(url, allow_private=True)


def test_unknown_event_types_are_refused_naming_the_field():
    with pytest.raises(InvalidInput) as refused:
        check_event_types(["opportunity.won", "opportunity.exploded"])
    assert refused.value.errors[0].field == "event_types"
    assert "opportunity.exploded" in refused.value.errors[0].message


@given(st.lists(st.sampled_from(sorted(EVENT_TYPES)), max_size=20))
def test_event_types_drop_repeats_and_keep_their_order(types: list[str]):
    kept = check_event_types(types)
    assert len(set(kept)) == len(kept) and set(kept) == set(types)
    assert list(kept) == sorted(set(types), key=types.index)


def test_a_secret_is_whsec_and_the_base64_of_32_bytes():
    random = bytes(range(SECRET_BYTES))
    secret = new_secret(random)
    assert secret.startswith("whsec_")
    assert base64.b64decode(secret.removeprefix("whsec_"), validate=True) == random
    with pytest.raises(ValueError):
        new_secret(b"short")


def _endpoint(**fields: object) -> Endpoint:
    values: dict[str, object] = {
        "id": 1, "organization_id": 1, "url": "https://example.com/", "description": None,
        "event_types": (), "active": True, "disabled_at": None, "disabled_reason": None,
        "failing_since": None, "created_at": NOW, "updated_at": NOW, "version": 1}
    return Endpoint(**values | fields)  # type: ignore[arg-type]


def test_disabling_through_the_api_records_when_and_why():
    endpoint = edited(_endpoint(failing_since=NOW), {"active": False}, now=NOW)
    assert (endpoint.active, endpoint.disabled_at, endpoint.disabled_reason) == (
        False, NOW, DISABLED_BY_API)


def test_enabling_clears_the_disabling_and_the_failures():
    disabled = _endpoint(active=False, disabled_at=NOW, disabled_reason="endpoint disabled",
                         failing_since=NOW)
    endpoint = edited(disabled, {"active": True}, now=NOW)
    assert (endpoint.active, endpoint.disabled_at, endpoint.disabled_reason,
            endpoint.failing_since) == (True, None, None, None)


def test_active_as_it_is_changes_nothing_and_keeps_the_reason():
    disabled = _endpoint(active=False, disabled_at=NOW, disabled_reason="endpoint disabled")
    assert edited(disabled, {"active": False}, now=NOW) == disabled
    assert edited(_endpoint(), {"active": True, "url": "https://example.com/"},
                  now=NOW) == _endpoint()
    changed = edited(_endpoint(), {"event_types": ["quote.sent"]}, now=NOW)
    assert changed.event_types == ("quote.sent",) and changed.takes("quote.sent")
    assert not changed.takes("quote.signed") and _endpoint().takes("quote.signed")


def test_nothing_is_queued_again_for_an_inactive_endpoint():
    check_deliverable(_endpoint())
    with pytest.raises(Conflict):
        check_deliverable(_endpoint(active=False))
