"""Outbound webhooks: the endpoints an organization registers, and their deliveries.

An endpoint is told of the events of the change feed whose types it lists (none listed:
every type), each as one delivery, signed per Standard Webhooks with the endpoint's
secret (and, for 24 hours after a rotation, with the previous one too). A delivery is
`pending` until an attempt gets a 2xx (`succeeded`) or its last attempt fails (`failed`).
An endpoint that is not `active` gets no delivery: none is made and none is queued.

Where an endpoint may point is checked when it is saved (`check_url`, on the URL's text:
names are not resolved then) and again when a message is sent (the addresses its host
resolves to, each through `refused_address`)."""

import base64
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address
from typing import Any, NoReturn
from urllib.parse import urlsplit

from salescore.domain.errors import Conflict, InvalidInput
from salescore.domain.events import EVENT_TYPES

# After a rotation the previous secret still signs for this long, beside the new one, so
# that a receiver may take the new one whenever it likes within the day.
PREVIOUS_SECRET_GRACE = timedelta(hours=24)
# No 2xx for this long while deliveries were due disables the endpoint.
FAILING_LIMIT = timedelta(days=5)
SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32
ENDPOINT_DISABLED = "endpoint disabled"
DISABLED_BY_API = "disabled through the API"
MAX_URL_LENGTH = 2048
MAX_DESCRIPTION_LENGTH = 1000
_CGNAT = IPv4Network("100.64.0.0/10")
_SITE_LOCAL = IPv6Network("fec0::/10")
# The parts of an IPv4 address as URL parsers (WHATWG) and inet_aton read them: decimal,
# octal after a 0, hexadecimal after 0x. A host whose last label looks like a number is
# read as an address: `127.1`, `0x7f.0.0.1` and `2130706433` are all 127.0.0.1.
_PARTS = ((re.compile(r"0[xX]([0-9a-fA-F]*)"), 16), (re.compile(r"0([0-7]+)"), 8),
          (re.compile(r"(0|[1-9][0-9]*)"), 10))
_NUMBERISH = re.compile(r"[0-9]+|0[xX][0-9a-fA-F]*")
_NAME = re.compile(r"[A-Za-z0-9._-]+")
_UNSAFE = re.compile(r"[\s\\\x00-\x1f\x7f]")


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Endpoint:
    id: int
    organization_id: int
    url: str
    description: str | None
    event_types: tuple[str, ...]
    active: bool
    disabled_at: datetime | None
    disabled_reason: str | None
    failing_since: datetime | None
    created_at: datetime
    updated_at: datetime
    version: int

    def takes(self, event_type: str) -> bool:
        """Whether an event of this type is delivered here (while the endpoint is active)."""
        return not self.event_types or event_type in self.event_types


@dataclass(frozen=True, slots=True)
class Delivery:
    id: int
    organization_id: int
    endpoint_id: int
    event_id: int
    event_type: str
    status: DeliveryStatus
    attempt_count: int
    attempts_due: int
    next_attempt_at: datetime
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    succeeded_at: datetime | None


@dataclass(frozen=True, slots=True)
class Attempt:
    id: int
    delivery_id: int
    attempted_at: datetime
    status_code: int | None
    duration_ms: int
    error: str | None
    response_excerpt: str | None


def new_secret(random: bytes) -> str:
    """A signing secret as Standard Webhooks spells it: `whsec_` and the standard base64
    of SECRET_BYTES random bytes (drawn by the caller)."""
    if len(random) != SECRET_BYTES:
        raise ValueError(f"a secret is made of {SECRET_BYTES} random bytes")
    return SECRET_PREFIX + base64.b64encode(random).decode("ascii")


def refused_address(address: IPv4Address | IPv6Address) -> str | None:
    """Why no webhook may go to `address` (None: it may): only public unicast addresses
    are allowed. Refused are unspecified, loopback, link-local (the cloud metadata
    address 169.254.169.254 among them), multicast, carrier-grade NAT (100.64.0.0/10),
    site-local, reserved and private addresses, any other that is not globally reachable,
    and IPv6 addresses that stand for an IPv4 one: IPv4-mapped (`::ffff:a.b.c.d`) always,
    6to4 (`2002::/16`) when the IPv4 address it embeds is refused."""
    if isinstance(address, IPv6Address):
        if address.ipv4_mapped is not None:
            return "an IPv4-mapped IPv6 address"
        if address.sixtofour is not None and refused_address(address.sixtofour):
            return "a 6to4 address of a refused IPv4 address"
        if address in _SITE_LOCAL:
            return "a site-local address"
    if address.is_unspecified:
        return "an unspecified address"
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_multicast:
        return "a multicast address"
    if isinstance(address, IPv4Address) and address in _CGNAT:
        return "a carrier-grade NAT address"
    if address.is_reserved:
        return "a reserved address"
    if address.is_private:
        return "a private address"
    if not address.is_global:
        return "an address that is not globally reachable"
    return None


def _refuse(message: str) -> NoReturn:
    raise InvalidInput.of("url", message)


def _part(label: str) -> int | None:
    for pattern, base in _PARTS:
        if (found := pattern.fullmatch(label)) is not None:
            return int(found.group(1) or "0", base)
    return None


def literal_address(host: str) -> IPv4Address | IPv6Address | None:
    """The IP address a URL's host spells, or None for a name. IPv4 counts in every form
    URL parsers read as one: four decimal parts, and also fewer parts (`127.1`), octal or
    hexadecimal parts (`0177.0.0.0x1`) or one number (`2130706433`). A host whose last
    label is a number but that is no valid address is refused, as URL parsers refuse it."""
    try:
        return ip_address(host)
    except ValueError:
        pass
    labels = host.split(".")
    if len(labels) > 1 and not labels[-1]:
        labels.pop()  # the root's dot: `10.0.0.1.`
    if not _NUMBERISH.fullmatch(labels[-1]):
        return None
    parts = [_part(label) for label in labels]
    numbers = [n for n in parts if n is not None]
    if (len(labels) > 4 or len(numbers) != len(parts) or any(n > 255 for n in numbers[:-1])
            or numbers[-1] >= 256 ** (5 - len(numbers))):
        _refuse("has a host that is neither a name nor a valid IP address")
    value = numbers[-1] + sum(n << 8 * (3 - i) for i, n in enumerate(numbers[:-1]))
    return IPv4Address(value)


def check_url(url: str, *, allow_private: bool) -> str:
    """An endpoint's URL, refused (naming `url`) unless it is an absolute `https://` URL
    (`http://` too when private networks are allowed) of at most 2048 characters, with a
    host and a port other than 0, no user name or password, and no spaces, backslashes or
    control characters. A host is a name of letters, digits, `-`, `_` and `.` (or
    non-ASCII, for international names) or an IP address; unless private networks are
    allowed, an address `refused_address` refuses is refused here, and so are `localhost`
    and its subdomains. Other names are not resolved here: the addresses they resolve to
    are checked when a message is sent."""
    if len(url) > MAX_URL_LENGTH:
        _refuse(f"must have at most {MAX_URL_LENGTH} characters")
    if _UNSAFE.search(url) or not url.isprintable():
        _refuse("must not contain spaces, backslashes or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        _refuse("is not a valid URL")
    if parts.scheme not in ("http", "https") or not parts.netloc:
        _refuse("must be an absolute http:// or https:// URL")
    if parts.scheme != "https" and not allow_private:
        _refuse("must be an https:// URL")
    host = parts.hostname
    if not host:
        _refuse("must name a host")
    if parts.username is not None or parts.password is not None:
        _refuse("must not hold a user name or password")
    if port == 0:
        _refuse("must not name port 0")
    address = literal_address(host)
    if address is None and not all(_NAME.fullmatch(c) or not c.isascii() for c in host):
        _refuse("has a host that is neither a name nor a valid IP address")
    if allow_private:
        return url
    if address is None and (host == "localhost" or host.endswith(".localhost")):
        _refuse("names localhost, which is refused")
    if address is not None and (reason := refused_address(address)) is not None:
        _refuse(f"names {reason}, which is refused")
    return url


def check_event_types(types: Iterable[str]) -> tuple[str, ...]:
    """The types of event an endpoint takes, each a registered one (EVENT_TYPES), repeats
    dropped and the order they came in kept; none at all means every type."""
    kept = tuple(dict.fromkeys(types))
    for unknown in (t for t in kept if t not in EVENT_TYPES):
        raise InvalidInput.of("event_types", f"{unknown!r} is not an event type "
                                             "(see GET /v1/event-types)")
    return kept


def edited(endpoint: Endpoint, changes: Mapping[str, Any], *, now: datetime) -> Endpoint:
    """The endpoint with an admin's changes (`url`, `description`, `event_types`, `active`,
    each checked already). Made inactive, it is disabled now, for DISABLED_BY_API; made
    active, it is enabled again, `disabled_at`, `disabled_reason` and `failing_since`
    cleared (five days of failures count afresh). `active` as it is changes nothing: an
    endpoint that failed too long keeps its reason."""
    values = dict(changes)
    active = values.pop("active", endpoint.active)
    if "event_types" in values:
        values["event_types"] = tuple(values["event_types"])
    result = replace(endpoint, **values)
    if active and not endpoint.active:
        return replace(result, active=True, disabled_at=None, disabled_reason=None,
                       failing_since=None)
    if not active and endpoint.active:
        return replace(result, active=False, disabled_at=now, disabled_reason=DISABLED_BY_API)
    return result


def check_deliverable(endpoint: Endpoint) -> None:
    """Deliveries are queued again (redelivered, recovered) only for an active endpoint:
    none is queued for an inactive one, which must be enabled first."""
    if not endpoint.active:
        raise Conflict("the webhook endpoint is inactive: enable it with "
                       "PATCH {\"active\": true} first")
