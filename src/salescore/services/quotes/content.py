"""A quote's frozen copy, made from its opportunity's lines and its template's texts.

The stored copy is the canonical JSON object of `domain/quotes/frozen.py` plus the
template's `accent_color` (presentation only: the content hash leaves it out)."""

from datetime import date
from typing import Any

from salescore.domain.access.organization import Organization
from salescore.domain.errors import InvalidInput, NotFound
from salescore.domain.quotes.quotes import content_document, content_of, content_sha256, freeze
from salescore.domain.quotes.records import Quote
from salescore.domain.sales.opportunities import Opportunity
from salescore.repositories.unit_of_work import UnitOfWork


def content_hash(document: dict[str, Any]) -> str:
    """The SHA-256 of the stored copy's canonical JSON (without its presentation)."""
    return content_sha256(content_of(document))


async def frozen_content(uow: UnitOfWork, organization: Organization,
                         opportunity: Opportunity, template_id: int, valid_until: date,
                         note: str | None, *, lines_of: Quote | None = None) -> dict[str, Any]:
    """The quote's columns that follow from its copy: the opportunity's current lines and
    offer discount (or, with `lines_of`, that draft's frozen ones), on the template's
    texts."""
    org = organization.id
    template = await uow.quote_templates.get(org, template_id)
    if template is None:
        raise NotFound("quote template", field="template_id")
    if lines_of is None and not template.active:
        raise InvalidInput.of("template_id", "is not active")
    if lines_of is not None:
        kept = content_of(lines_of.content)
        lines: Any = kept.lines
        discount, currency = kept.discount_percent, kept.currency
        customer_name = kept.customer_name
    else:
        lines = await uow.opportunity_lines.of_opportunity(org, opportunity.id)
        discount, currency = opportunity.discount_percent, opportunity.currency
        customer = await uow.customers.get(org, opportunity.customer_id)
        assert customer is not None  # the opportunity's foreign key holds it
        customer_name = customer.name
    content = freeze(currency=currency, seller_organization_name=organization.name,
                     customer_name=customer_name, lines=lines, discount_percent=discount,
                     valid_until=valid_until, header_text=template.header_text,
                     footer_text=template.footer_text, terms=template.terms, note=note)
    return {"currency": currency, "template_id": template_id,
            "content": content_document(content) | {"accent_color": template.accent_color},
            "discount_percent": content.discount_percent, "lines_total": content.lines_total,
            "discount_amount": content.discount_amount, "total": content.total}
