"""Examples of the main request and response bodies, for the OpenAPI document: each model
takes its own as `model_config = shown("ModelName")`, and the spec builder writes them in
again whole (FastAPI's drops every null of an example). One made-up deal runs through
them: Fjord Logistikk AS buys a fleet licence. tests/api/test_openapi_for_clients.py
checks that every model accepts its example."""

from typing import Any

from pydantic import ConfigDict

CUSTOMER_CREATE: dict[str, Any] = {
    "name": "Fjord Logistikk AS", "org_number": "918273645", "email": "post@fjordlog.no",
    "phone": "+47 55 12 34 56", "status": "active", "owner_id": 12,
    "external_id": "crm-4711"}
CUSTOMER_READ: dict[str, Any] = {
    "id": 301, **CUSTOMER_CREATE, "created_at": "2026-03-02T09:15:00Z",
    "updated_at": "2026-03-02T09:15:00Z", "version": 1}

OPPORTUNITY_CREATE: dict[str, Any] = {
    "name": "Fleet licence 2027", "customer_id": 301, "contact_id": 552,
    "amount": "1250000.00", "currency": "NOK", "expected_close_date": "2027-01-31",
    "follow_up_date": "2026-11-15", "source_id": 3, "external_id": "erp-deal-88"}
OPPORTUNITY_UPDATE: dict[str, Any] = {
    "amount": "1175000.00", "probability": "60.00", "expected_close_date": "2027-02-28"}
OPPORTUNITY_READ: dict[str, Any] = {
    "id": 1042, "name": "Fleet licence 2027", "description": None, "customer_id": 301,
    "contact_id": 552, "owner_id": 12, "sales_process_id": 2, "stage_id": 7,
    "status": "open", "type_id": None, "source_id": 3, "campaign_id": None,
    "amount": "1250000.00", "currency": "NOK", "probability": "25.00",
    "probability_source": "stage", "weighted_amount": "312500.00",
    "margin_amount": "400000.00", "margin_percent": "32.00", "amount_source": "manual",
    "discount_percent": "0.00", "lines_total": "0.00", "ordered_amount": None,
    "expected_close_date": "2027-01-31", "follow_up_date": "2026-11-15",
    "previous_follow_up_date": None, "loss_reason_id": None, "loss_note": None,
    "closed_at": None, "project_ref": None, "external_id": "erp-deal-88",
    "sellers": [{"user_id": 12, "share": "100.00"}], "created_at": "2026-10-01T08:30:00Z",
    "created_by": 12, "updated_at": "2026-10-01T08:30:00Z", "updated_by": 12, "version": 1}

MOVE: dict[str, Any] = {"stage_id": 8, "probability": "60.00"}
WIN: dict[str, Any] = {"stage_id": 10}
LOSE: dict[str, Any] = {"loss_reason_id": 4, "loss_note": "Went with the incumbent."}

SELLER_CREATE: dict[str, Any] = {"user_id": 17, "share": "40.00"}
SELLERS_READ: dict[str, Any] = {
    "sellers": [{"user_id": 12, "share": "60.00"}, {"user_id": 17, "share": "40.00"}],
    "total_share": "100.00", "warnings": []}

ACTIVITY_CREATE: dict[str, Any] = {
    "kind": "appointment", "subject": "Demo of the fleet module",
    "starts_at": "2026-11-15T09:00:00+01:00", "ends_at": "2026-11-15T10:00:00+01:00",
    "assignee_id": 12, "opportunity_id": 1042}
ACTIVITY_READ: dict[str, Any] = {
    "id": 7781, "kind": "appointment", "subject": "Demo of the fleet module", "text": None,
    "due_at": None, "starts_at": "2026-11-15T08:00:00Z", "ends_at": "2026-11-15T09:00:00Z",
    "done": False, "done_at": None, "assignee_id": 12, "customer_id": 301,
    "contact_id": None, "opportunity_id": 1042, "origin": "manual",
    "created_at": "2026-10-02T13:05:00Z", "created_by": 12,
    "updated_at": "2026-10-02T13:05:00Z", "version": 1}

PIPELINE_REPORT: dict[str, Any] = {
    "currency": "NOK", "fx_date": "2026-10-02", "group_by": ["owner"],
    "groups": [
        {"key": {"owner": {"id": 12, "name": "Kari Nordmann"}}, "count": 14,
         "amount": "4800000.00", "weighted_amount": "1730000.00"},
        {"key": {"owner": {"id": 17, "name": "Ola Hansen"}}, "count": 9,
         "amount": "2150000.00", "weighted_amount": "690000.00"}],
    "total": {"count": 23, "amount": "6950000.00", "weighted_amount": "2420000.00"},
    "unconverted": []}

EVENT: dict[str, Any] = {
    "id": 90412, "type": "opportunity.stage_changed", "aggregate_type": "opportunity",
    "aggregate_id": 1042, "occurred_at": "2026-10-20T14:02:11Z",
    "actor": {"type": "user", "id": 12},
    "data": {"name": "Fleet licence 2027",
             "changes": {"stage_id": {"from": 7, "to": 8},
                         "probability": {"from": "25.00", "to": "60.00"}}}}

# By the name of the model (and of its schema in the spec); the expanded read inherits
# the read's.
EXAMPLES: dict[str, dict[str, Any]] = {
    "CustomerCreate": CUSTOMER_CREATE, "CustomerRead": CUSTOMER_READ,
    "OpportunityCreate": OPPORTUNITY_CREATE, "OpportunityUpdate": OPPORTUNITY_UPDATE,
    "OpportunityRead": OPPORTUNITY_READ, "OpportunityExpandedRead": OPPORTUNITY_READ,
    "MoveRequest": MOVE, "WinRequest": WIN, "LoseRequest": LOSE,
    "SellerCreate": SELLER_CREATE, "SellersRead": SELLERS_READ,
    "ActivityCreate": ACTIVITY_CREATE, "ActivityRead": ACTIVITY_READ,
    "PipelineReportRead": PIPELINE_REPORT, "EventRead": EVENT,
}


def shown(model: str) -> ConfigDict:
    """The config of a model whose schema shows its example."""
    return ConfigDict(json_schema_extra={"examples": [EXAMPLES[model]]})
