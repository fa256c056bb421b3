"""The guard against server-side request forgery when a webhook message is sent.

The URL's host is resolved once (through the resolver given: the event loop's getaddrinfo
by default); if any address it resolves to is refused (`refused_address`: loopback,
private, link-local, multicast, reserved, IPv4-mapped, ...), no connection is made.
`SALESCORE_WEBHOOK_ALLOW_PRIVATE_NETWORKS` lets those through, and `http://` URLs, which
are refused otherwise, with one exception: the cloud metadata addresses are never
contacted. The connection then goes to the address that was checked, not to the name
resolved again (no DNS rebinding): the request's URL carries the address with the
original port and path, the `Host` header the original host, and for `https://` the TLS
server name (SNI, and what the certificate is checked against) is the original host."""

import asyncio
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address, ip_address

import httpx

from salescore.domain.errors import InvalidInput
from salescore.domain.integrations.webhooks import literal_address, refused_address

Address = IPv4Address | IPv6Address
Resolver = Callable[[str, int], Awaitable[Sequence[Address]]]
# Instance metadata services hand out cloud credentials: no setting lets a webhook there.
METADATA = frozenset({ip_address("169.254.169.254"), ip_address("fd00:ec2::254")})


class Refused(Exception):
    """No message may go to this URL; `reason` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Unresolved(Exception):
    """The host has no address (or the name service failed)."""


@dataclass(frozen=True, slots=True)
class Pinned:
    """A request target checked and fixed to one address. `public`: every address the
    host resolved to is a public one (only then is an answer's excerpt kept)."""

    url: httpx.URL
    host_header: str
    sni_hostname: str | None
    public: bool

    @property
    def extensions(self) -> dict[str, str]:
        return {} if self.sni_hostname is None else {"sni_hostname": self.sni_hostname}


async def system_resolver(host: str, port: int) -> list[Address]:
    """The host's addresses, as the operating system's resolver gives them, in its order."""
    try:
        found = await asyncio.get_running_loop().getaddrinfo(host, port,
                                                             type=socket.SOCK_STREAM)
    except OSError as error:
        raise Unresolved(f"could not resolve {host}: {error}") from None
    addresses: list[Address] = []
    for *_, sockaddr in found:
        try:
            address = ip_address(str(sockaddr[0]).split("%", 1)[0])
        except ValueError:
            continue
        if address not in addresses:
            addresses.append(address)
    return addresses


async def pin(url: str, *, resolver: Resolver, allow_private: bool) -> Pinned:
    """Where to send a message for `url`: its host resolved once and checked (see the
    module's docstring); Refused, or Unresolved, when it may not or cannot be reached."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        raise Refused("not a valid URL") from None
    if parsed.scheme not in ("http", "https") or not parsed.raw_host:
        raise Refused("not an absolute http:// or https:// URL")
    if parsed.scheme == "http" and not allow_private:
        raise Refused("an http:// URL (only https:// is allowed)")
    host = parsed.raw_host.decode("ascii")
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        literal = literal_address(host)
    except InvalidInput:
        raise Refused("a host that is neither a name nor a valid IP address") from None
    addresses = [literal] if literal is not None else list(await resolver(host, port))
    if not addresses:
        raise Unresolved(f"{host} has no address")
    reasons = [reason for address in addresses
               if (reason := _refusal(address, allow_private=allow_private))]
    if reasons:
        raise Refused(reasons[0])
    address = addresses[0]
    shown = f"[{host}]" if ":" in host else host
    return Pinned(
        url=parsed.copy_with(host=str(address)),
        host_header=shown if parsed.port is None else f"{shown}:{parsed.port}",
        sni_hostname=host if parsed.scheme == "https" and literal is None else None,
        public=all(refused_address(a) is None for a in addresses))


def _refusal(address: Address, *, allow_private: bool) -> str | None:
    mapped = address.ipv4_mapped if isinstance(address, IPv6Address) else None
    if address in METADATA or mapped in METADATA:
        return "the cloud metadata address"
    return None if allow_private else refused_address(address)
