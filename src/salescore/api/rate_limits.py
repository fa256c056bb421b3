"""Rate limits: a token bucket per credential, and per client address without one.

- A request with a bearer credential is counted against that credential (an API key, or a
  user's token), keyed by the SHA-256 the caller cache keys it by: two keys never share a
  bucket. `SALESCORE_RATE_LIMIT_PER_MINUTE` a minute, `SALESCORE_RATE_LIMIT_BURST` at once.
- A request without one, and any request to a route that takes none (the token endpoint,
  the spec and its pages, a quote's public link and page, e-signature callbacks) whatever
  it carries, is counted against its client address:
  `SALESCORE_RATE_LIMIT_UNAUTHENTICATED_PER_MINUTE` a minute, as many at once.
- A credential that is refused (401) is counted against the address too, and is forgotten:
  until it works, each of its requests waits for the address to have room. Made-up keys
  thus cost no more database look-ups than the address's limit.
- The address is the connection's peer, unless the peer is one of
  `SALESCORE_TRUSTED_PROXIES`: then the right-most address of `X-Forwarded-For` that is
  not a trusted proxy (what lies left of it the client may have written itself).
- `/healthz` and `/readyz` are not limited, so that probes never are refused.
- Past the limit: 429 problem+json with `Retry-After`. Every answer of a limited route
  carries `RateLimit-Policy` and `RateLimit` (draft-ietf-httpapi-ratelimit-headers-10).
- Buckets live in the process: with N replicas behind a balancer, or N processes of
  `serve --processes N`, a client may get up to N times the limit. Nothing is read from
  the database.
The arithmetic is in domain/access/rate_limits.py."""

import time
from collections.abc import Callable
from ipaddress import IPv4Network, IPv6Network, ip_address

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from salescore.api.deps import bearer_credential
from salescore.api.errors import problem
from salescore.domain.access.rate_limits import Bucket, RatePolicy
from salescore.domain.errors import NotAuthenticated
from salescore.services.access.caller_cache import credential_key
from salescore.services.access.recent import Recent
from salescore.settings import Settings

Networks = tuple[IPv4Network | IPv6Network, ...]
MAX_BUCKETS = 100_000
UNLIMITED_PATHS = frozenset({"/healthz", "/readyz"})
PER_ADDRESS_PATHS = frozenset({"/v1/auth/token", "/openapi.json", "/docs", "/redoc"})
# Routes whose credential is not a bearer one: a quote's link, a provider's signature; and
# the files of the spec's pages.
PER_ADDRESS_PREFIXES = ("/q/", "/v1/public/", "/v1/esign-callbacks/", "/docs/assets/")


class Buckets:
    """The buckets of one policy in this process: those of the `MAX_BUCKETS` clients seen
    last (one forgotten starts again with a full bucket)."""

    def __init__(self, policy: RatePolicy, *, clock: Callable[[], float] = time.monotonic,
                 max_entries: int = MAX_BUCKETS) -> None:
        self.policy = policy
        self.policy_header = policy.header().encode() if policy.enabled else b""
        self._clock = clock
        self._buckets: Recent[str | bytes, Bucket] = Recent(max_entries)

    def knows(self, key: str | bytes) -> bool:
        return key in self._buckets

    def take(self, key: str | bytes) -> tuple[bool, Bucket]:
        """Whether the client's request may be served, and its bucket."""
        now = self._clock()
        bucket = self._buckets.touch(key)
        if bucket is None:
            bucket = Bucket(self.policy, now=now)
            self._buckets.put(key, bucket)
        return bucket.take(self.policy, now=now), bucket

    def peek(self, key: str | bytes) -> tuple[bool, Bucket]:
        """What `take` would say, taking nothing (a copy of the bucket is taken from)."""
        now = self._clock()
        probe = Bucket(self.policy, now=now)
        found = self._buckets.get(key)
        if found is not None:
            probe.tokens, probe.at = found.tokens, found.at
        return probe.take(self.policy, now=now), probe

    def forget(self, key: str | bytes) -> None:
        self._buckets.drop(key)

    def headers(self, bucket: Bucket) -> list[tuple[bytes, bytes]]:
        return [(b"ratelimit-policy", self.policy_header),
                (b"ratelimit", bucket.header(self.policy).encode())]


def client_address(scope: Scope, trusted: Networks) -> str:
    """The address a request comes from: the peer, or past trusted proxies, the right-most
    address of `X-Forwarded-For` that is not one of them."""
    peer = scope.get("client")
    address: str = peer[0] if peer else ""
    if not trusted or not _is_trusted(address, trusted):
        return address
    forwarded = [part.strip() for name, value in scope["headers"]
                 if name == b"x-forwarded-for"
                 for part in value.decode("latin-1").split(",") if part.strip()]
    hops: list[str] = forwarded or [address]
    return next((hop for hop in reversed(hops) if not _is_trusted(hop, trusted)), hops[0])


def _is_trusted(address: str, trusted: Networks) -> bool:
    try:
        parsed = ip_address(address)
    except ValueError:
        return False
    return any(parsed in network for network in trusted)


def _credential(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"authorization":
            try:
                return bearer_credential(value.decode("latin-1"))
            except NotAuthenticated:
                return None
    return None


class RateLimits:
    """The middleware: the rules are the module's."""

    def __init__(self, app: ASGIApp, *, settings: Settings,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.app = app
        self.trusted = settings.trusted_proxy_networks()
        self.credentials = Buckets(RatePolicy("credential", settings.rate_limit_per_minute,
                                              settings.rate_limit_burst), clock=clock)
        per_address = settings.rate_limit_unauthenticated_per_minute
        self.addresses = Buckets(RatePolicy("address", per_address, per_address), clock=clock)
        self.enabled = self.credentials.policy.enabled or self.addresses.policy.enabled

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self.enabled or scope["type"] != "http" or scope["path"] in UNLIMITED_PATHS:
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        per_address = path in PER_ADDRESS_PATHS or path.startswith(PER_ADDRESS_PREFIXES)
        credential = None if per_address else _credential(scope)
        if credential is None:
            await self._per_address(scope, receive, send)
        elif self.credentials.policy.enabled:
            await self._per_credential(credential_key(credential), scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def _per_address(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self.addresses.policy.enabled:
            await self.app(scope, receive, send)
            return
        allowed, bucket = self.addresses.take(client_address(scope, self.trusted))
        if not allowed:
            await _refuse(self.addresses, bucket, "from this address", scope, receive, send)
            return
        await self.app(scope, receive, _with_headers(send, self.addresses.headers(bucket)))

    async def _per_credential(self, key: bytes, scope: Scope, receive: Receive,
                              send: Send) -> None:
        vouched = self.credentials.knows(key) or not self.addresses.policy.enabled
        if not vouched:
            waiting, bucket = self.addresses.peek(client_address(scope, self.trusted))
            if not waiting:
                await _refuse(self.addresses, bucket, "from this address", scope, receive,
                              send)
                return
        allowed, bucket = self.credentials.take(key)
        if not allowed:
            await _refuse(self.credentials, bucket, "for this credential", scope, receive,
                          send)
            return
        await self.app(scope, receive, _with_headers(
            send, self.credentials.headers(bucket),
            on_401=lambda: self._refused_credential(key, scope)))

    def _refused_credential(self, key: bytes, scope: Scope) -> None:
        """A credential that does not work is forgotten, and counts against the address."""
        self.credentials.forget(key)
        if self.addresses.policy.enabled:
            self.addresses.take(client_address(scope, self.trusted))


def _with_headers(send: Send, headers: list[tuple[bytes, bytes]], *,
                  on_401: Callable[[], None] | None = None) -> Send:
    async def send_with_headers(message: Message) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = [*message.get("headers", []), *headers]
            if on_401 is not None and message["status"] == 401:
                on_401()
        await send(message)

    return send_with_headers


async def _refuse(buckets: Buckets, bucket: Bucket, whose: str, scope: Scope,
                  receive: Receive, send: Send) -> None:
    wait = bucket.next_token_seconds(buckets.policy)
    answer = problem(429, f"too many requests {whose}: wait {wait} s (Retry-After)",
                     request=Request(scope),
                     headers={"Retry-After": str(wait),
                              "RateLimit-Policy": buckets.policy_header.decode(),
                              "RateLimit": bucket.header(buckets.policy)})
    await answer(scope, receive, send)
