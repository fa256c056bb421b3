"""An imported row, validated by the API's own request schema of its resource and shaped
as that route hands its body to the service (services/integrations/imports.py runs it).

CSV cells are text: an empty cell is a value not given; `true` and `false` (any case) are
the booleans; with `;` as the delimiter, a decimal comma (`1234,50`) is read as a number.
NDJSON values are JSON, as the API takes them (`null` is given: it clears a field where
the route's PATCH or upsert would), but for one thing: a decimal field takes a JSON number
too (`"amount": 1250.50`), read as the digits the file holds, never through a float, where
the API takes decimal strings only (a file is often a database's dump)."""

import re
from decimal import Decimal
from types import UnionType
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from salescore.api.v1.activities.schemas import ActivityCreate
from salescore.api.v1.customers.schemas import (
    ContactCreate,
    ContactUpsert,
    CustomerCreate,
    CustomerUpsert,
)
from salescore.api.v1.sales.opportunity_schemas import OpportunityCreate, OpportunityUpsert
from salescore.api.v1.schemas import Id, Patch
from salescore.domain.errors import FieldError, InvalidInput
from salescore.domain.integrations.imports import ImportResource

_DECIMAL_COMMA = re.compile(r"^\s*[-+]?\d*,\d+\s*$")


class ContactRow(ContactCreate):
    customer_id: Id


class ContactUpsertRow(ContactUpsert):
    customer_id: Id


# The schema a row is read with: for a create, and for an upsert (a row with external_id).
_SCHEMAS: dict[ImportResource, tuple[type[BaseModel], type[BaseModel] | None]] = {
    ImportResource.CUSTOMERS: (CustomerCreate, CustomerUpsert),
    ImportResource.CONTACTS: (ContactRow, ContactUpsertRow),
    ImportResource.OPPORTUNITIES: (OpportunityCreate, OpportunityUpsert),
    ImportResource.ACTIVITIES: (ActivityCreate, None),
}


def _holds(annotation: Any, kind: type) -> bool:
    if annotation is kind:
        return True
    if get_origin(annotation) in (Union, UnionType) or hasattr(annotation, "__metadata__"):
        return any(_holds(a, kind) for a in get_args(annotation))
    return False


def _typed(model: type[BaseModel], kind: type) -> frozenset[str]:
    return frozenset(name for name, info in model.model_fields.items()
                     if _holds(info.annotation, kind))


_BOOLEANS = {resource: _typed(create, bool) for resource, (create, _) in _SCHEMAS.items()}
_DECIMALS = {resource: _typed(create, Decimal) for resource, (create, _) in _SCHEMAS.items()}


def _digits(value: Any) -> Any:
    """A decimal or an integer as plain digits (`1E+3` as `1000`); anything else as it is."""
    if isinstance(value, Decimal) and value.is_finite():
        return format(value, "f")
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


def _message(error: Any) -> str:
    kind = error.get("type")
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        return "is not a column of this resource"
    return str(error.get("msg", "is invalid"))


class ImportRowRules:
    """services/integrations/imports.py's RowRules, from the API's schemas."""

    def fields(self, resource: ImportResource) -> frozenset[str]:
        return frozenset(_SCHEMAS[resource][0].model_fields)

    def values(self, resource: ImportResource, row: dict[str, Any], *, upsert: bool,
               from_text: bool, decimal_comma: bool) -> dict[str, Any]:
        if from_text:
            row = self._from_text(resource, row, decimal_comma)
        else:
            row = self._from_json(resource, row)
        create, upserting = _SCHEMAS[resource]
        model = upserting if upsert and upserting is not None else create
        given = {k: v for k, v in row.items() if k != "external_id"} if model is not create \
            else row
        try:
            body = model.model_validate(given)
        except ValidationError as error:
            raise InvalidInput(*(FieldError(".".join(str(p) for p in e["loc"]) or "row",
                                            _message(e)) for e in error.errors())) from None
        if isinstance(body, Patch):
            return body.changes()
        if resource is ImportResource.OPPORTUNITIES:
            return body.model_dump(exclude_none=True)
        if resource is ImportResource.ACTIVITIES:
            return body.model_dump(exclude_unset=True)
        return body.model_dump()

    @staticmethod
    def _from_json(resource: ImportResource, row: dict[str, Any]) -> dict[str, Any]:
        """The NDJSON reader reads numbers as exact decimals (and integers): those in a
        decimal field become their digits, as the API's schema takes them."""
        return {name: _digits(value) if name in _DECIMALS[resource] else value
                for name, value in row.items()}

    @staticmethod
    def _from_text(resource: ImportResource, row: dict[str, Any],
                   decimal_comma: bool) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name, cell in row.items():
            if cell is None:
                continue
            if name in _BOOLEANS[resource] and isinstance(cell, str):
                cell = {"true": True, "false": False}.get(cell.strip().lower(), cell)
            elif (decimal_comma and name in _DECIMALS[resource] and isinstance(cell, str)
                  and _DECIMAL_COMMA.match(cell)):
                cell = cell.replace(",", ".")
            values[name] = cell
        return values
