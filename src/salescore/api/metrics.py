"""`GET /metrics` (Prometheus text format) and the JSON access log.

Every request is counted by method, route template (`/v1/opportunities/{opportunity_id}`,
never the path itself: ids would make a series each; `unmatched` for no route) and
status, and timed into a latency histogram. What the queues hold is read from the
database when the metrics are scraped, so it is the same whichever process answers:
pending webhook deliveries, the age of the oldest one that is due, queued e-mails.
Deliveries by outcome are counted by the worker that made them (services/integrations).

With `serve --processes N` each process writes its counters to files in
`PROMETHEUS_MULTIPROC_DIR` (set by `serve` before the processes start, emptied first) and
whichever process answers reads them all: prometheus-client's multiprocess mode.

Open unless `SALESCORE_METRICS_TOKEN` is set; then it takes `Authorization: Bearer
<that token>` only (401 otherwise). A request is logged, once answered, as one JSON line
on the `salescore.access` logger at INFO (method, path, route, status, duration_ms,
request_id), so `SALESCORE_LOG_LEVEL=warning` keeps it quiet."""

import hmac
import json
import logging
import os
import time

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from salescore.api.errors import problem
from salescore.api.routing import Router
from salescore.api.state import AppState
from salescore.repositories.unit_of_work import UnitOfWork
from salescore.services.integrations.queues import QueueDepths, queue_depths

router = Router(tags=["health"])
access = logging.getLogger("salescore.access")
REQUESTS = Counter("salescore_http_requests_total", "Requests answered",
                   ["method", "route", "status"])
LATENCY = Histogram("salescore_http_request_duration_seconds", "Time to answer a request",
                    ["method", "route"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
UNMATCHED = "unmatched"


class RequestMetrics:
    """Counts and times each HTTP request under its route template, and logs it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        began = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            route = getattr(scope.get("route"), "path", None) or UNMATCHED
            seconds = time.perf_counter() - began
            REQUESTS.labels(scope["method"], route, str(status)).inc()
            LATENCY.labels(scope["method"], route).observe(seconds)
            if access.isEnabledFor(logging.INFO):
                access.info(json.dumps({
                    "method": scope["method"], "path": scope["path"], "route": route,
                    "status": status, "duration_ms": round(seconds * 1e3, 2),
                    "request_id": scope.get("state", {}).get("request_id")}))


class _Queues(Collector):
    def __init__(self, depths: QueueDepths) -> None:
        self._depths = depths

    def collect(self):  # type: ignore[no-untyped-def]
        depths = self._depths
        yield GaugeMetricFamily("salescore_webhook_deliveries_pending",
                                "Webhook deliveries not yet succeeded or failed",
                                value=depths.deliveries_pending)
        yield GaugeMetricFamily("salescore_webhook_oldest_due_seconds",
                                "Age of the oldest pending delivery that is due (0: none)",
                                value=depths.oldest_due_seconds)
        yield GaugeMetricFamily("salescore_emails_queued", "Quote e-mails waiting to be sent",
                                value=depths.emails_queued)


def _process_metrics() -> bytes:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)
    return generate_latest(REGISTRY)


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    state: AppState = request.app.state.salescore
    token = state.settings.metrics_token
    if token is not None:
        scheme, _, given = (request.headers.get("authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
                given.strip().encode(), token.encode()):
            return problem(401, "GET /metrics takes the bearer token of "
                                "SALESCORE_METRICS_TOKEN", request=request,
                           headers={"WWW-Authenticate": "Bearer"})
    queues = CollectorRegistry()
    queues.register(_Queues(await queue_depths(UnitOfWork(state.reads))))
    return Response(_process_metrics() + generate_latest(queues),
                    media_type=CONTENT_TYPE_LATEST)
