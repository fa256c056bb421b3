"""`POST /v1/webhook-endpoints/{endpoint_id}/test`: a test message sent at once."""

from datetime import UTC, datetime

from pydantic import BaseModel, Field

from salescore.api.deps import AppStateDep, CallerDep, ResolverDep, UnitOfWorkDep
from salescore.api.errors import problem_responses
from salescore.api.routing import Router
from salescore.api.v1.schemas import Id
from salescore.services.integrations.sending import Sender, send_test

router = Router(tags=["webhooks"])


class WebhookTestResult(BaseModel):
    webhook_id: str = Field(description="The test message's own `webhook-id` (`msg_…`).")
    succeeded: bool = Field(description="The endpoint answered with a 2xx.")
    status_code: int | None = Field(description="None when no answer came.")
    duration_ms: int
    error: str | None = Field(description="Why no answer came (`refused: …` for an "
                                          "address the SSRF guard refused).")
    response_excerpt: str | None = Field(
        description="The start of the answer (1 kB), for public addresses only.")


@router.post("/v1/webhook-endpoints/{endpoint_id}/test", response_model=WebhookTestResult,
             responses=problem_responses(404))
async def test_webhook_endpoint(endpoint_id: Id, caller: CallerDep, uow: UnitOfWorkDep,
                                state: AppStateDep, resolver: ResolverDep) -> WebhookTestResult:
    """Sends a `webhook.test` message (`{"type": "webhook.test", "timestamp", "data":
    {"endpoint_id"}}`) now, with a fresh `webhook-id`, signed and checked as deliveries
    are, and answers how it went; it is not a delivery and is not logged as one."""
    settings = state.settings
    async with Sender(allow_private=settings.webhook_allow_private_networks,
                      resolver=resolver, concurrency=1) as sender:
        sent = await send_test(uow, sender, caller=caller, endpoint_id=endpoint_id,
                               key=settings.secrets_encryption_key(), now=datetime.now(UTC))
    result = sent.result
    return WebhookTestResult(
        webhook_id=sent.webhook_id, succeeded=result.succeeded, status_code=result.status_code,
        duration_ms=result.duration_ms, error=result.error,
        response_excerpt=result.response_excerpt)
