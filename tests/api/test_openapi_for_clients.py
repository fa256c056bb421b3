"""The OpenAPI document makes clean generated clients: short camelCase operation ids, a
summary and a description on every operation, decimals as strings, whole-number bounds,
and examples on the main bodies that the models accept."""

import re
import warnings
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import BaseModel

from salescore.api.app import create_app
from salescore.api.v1.activities.schemas import ActivityCreate, ActivityRead
from salescore.api.v1.customers.schemas import CustomerCreate, CustomerRead
from salescore.api.v1.examples import EXAMPLES
from salescore.api.v1.feed.schemas import EventRead
from salescore.api.v1.reports.schemas import PipelineReportRead
from salescore.api.v1.sales.opportunity_schemas import (
    LoseRequest,
    MoveRequest,
    OpportunityCreate,
    OpportunityExpandedRead,
    OpportunityRead,
    OpportunityUpdate,
    SellerCreate,
    SellersRead,
    WinRequest,
)
from salescore.settings import Settings

CAMEL_CASE = re.compile(r"[a-z]+(?:[A-Z][a-z0-9]*)*")
BOUNDS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")
EXAMPLED: tuple[type[BaseModel], ...] = (
    OpportunityCreate, OpportunityUpdate, OpportunityRead, OpportunityExpandedRead,
    MoveRequest, WinRequest, LoseRequest, SellerCreate, SellersRead, CustomerCreate,
    CustomerRead, ActivityCreate, ActivityRead, PipelineReportRead, EventRead)


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    """The app's spec, made with every warning an error (FastAPI warns of a repeated
    operation id)."""
    app = create_app(Settings(jwt_secret="unused"), "postgresql+asyncpg://unused@x/unused")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return app.openapi()


def _operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            yield method, path, operation


def _schemas(node: Any) -> Iterator[dict[str, Any]]:
    """Every object of the spec, depth first."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _schemas(value)
    elif isinstance(node, list):
        for value in node:
            yield from _schemas(value)


def test_operation_ids_are_unique_and_camel_case(spec: dict[str, Any]):
    ids = Counter(operation["operationId"] for _, _, operation in _operations(spec))
    assert [name for name, count in ids.items() if count > 1] == []
    assert [name for name in ids if not CAMEL_CASE.fullmatch(name)] == []


def test_the_main_operations_have_the_names_clients_call_them_by(spec: dict[str, Any]):
    ids = {(method, path): operation["operationId"]
           for method, path, operation in _operations(spec)}
    opportunity = "/v1/opportunities/{opportunity_id}"
    assert {
        ("get", "/v1/opportunities"): "listOpportunities",
        ("post", "/v1/opportunities"): "createOpportunity",
        ("get", opportunity): "getOpportunity",
        ("patch", opportunity): "updateOpportunity",
        ("delete", opportunity): "deleteOpportunity",
        ("post", f"{opportunity}/move"): "moveOpportunity",
        ("post", f"{opportunity}/win"): "winOpportunity",
        ("post", f"{opportunity}/lose"): "loseOpportunity",
        ("post", f"{opportunity}/sellers"): "addSeller",
        ("get", "/v1/reports/pipeline"): "getPipelineReport",
        ("get", "/v1/events"): "listEvents",
        ("post", "/v1/customers"): "createCustomer",
        ("get", "/v1/sales-regions"): "listSalesRegions",
        ("post", "/v1/lists/loss-reasons"): "createLossReason",
        ("post", "/v1/auth/token"): "createToken",
    }.items() <= ids.items()


def test_every_operation_has_a_summary_and_a_description(spec: dict[str, Any]):
    lacking = [(method, path) for method, path, operation in _operations(spec)
               if not operation.get("summary", "").strip()
               or not operation.get("description", "").strip()]
    assert lacking == []


def test_no_value_of_the_spec_is_a_json_number(spec: dict[str, Any]):
    """Money, percentages, quantities and rates are decimal strings, in and out; whole
    numbers are integers."""
    assert [s for s in _schemas(spec) if s.get("type") == "number"] == []


@pytest.mark.parametrize(("schema", "field", "example"), [
    ("OpportunityCreate", "amount", "1250.00"), ("OpportunityUpdate", "probability", "25.00"),
    ("OpportunityCreate", "margin_amount", "300.00"), ("SellerCreate", "share", "25.00"),
    ("LineCreate", "quantity", "2.5"), ("ExchangeRateCreate", "rate", "11.7325")])
def test_a_decimal_input_is_a_string_of_digits_with_an_example(spec: dict[str, Any],
                                                               schema: str, field: str,
                                                               example: str):
    found = spec["components"]["schemas"][schema]["properties"][field]
    text = next(s for s in found.get("anyOf", [found]) if s.get("type") != "null")
    assert (text["type"], text["pattern"], text["examples"]) == (
        "string", "^-?[0-9]+(\\.[0-9]+)?$", [example])


def test_every_bound_in_the_spec_is_a_whole_number(spec: dict[str, Any]):
    bounded = [s for s in _schemas(spec) if any(b in s for b in BOUNDS)]
    assert bounded
    assert [s for s in bounded if any(isinstance(s.get(b), float) for b in BOUNDS)] == []
    ids = spec["components"]["schemas"]["MoveRequest"]["properties"]["stage_id"]
    assert (ids["format"], ids["minimum"]) == ("int64", 1)


@pytest.mark.parametrize("model", EXAMPLED, ids=lambda model: model.__name__)
def test_a_main_body_shows_an_example_its_model_accepts(spec: dict[str, Any],
                                                        model: type[BaseModel]):
    shown = spec["components"]["schemas"][model.__name__]["examples"]
    assert shown == model.model_json_schema()["examples"] == [EXAMPLES[model.__name__]]
    model.model_validate(shown[0])


def test_every_example_is_of_a_main_body():
    assert set(EXAMPLES) == {model.__name__ for model in EXAMPLED}
