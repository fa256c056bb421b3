"""The OpenAPI operation ids: the endpoint's name in camelCase, so that a generated client
has `listOpportunities` and `moveOpportunity`, not `create_opportunity_v1_opportunities_post`.

An endpoint that reads one thing is named `read_...` here and `get...` in the spec, the word
clients use. The names are the contract's: renaming an endpoint renames a client method, and
the OpenAPI document refuses two operations of one id (tests/api/test_openapi.py)."""

import re

from fastapi.routing import APIRoute

_VERBS = {"read": "get"}


def operation_id(route: APIRoute) -> str:
    """`read_opportunity` → `getOpportunity`, `list_sales_regions` → `listSalesRegions`."""
    first, *rest = re.split(r"[_-]+", route.name)
    return _VERBS.get(first, first) + "".join(word.capitalize() for word in rest)
