"""The contract holds under fuzzing: schemathesis sends every operation of the app's own
OpenAPI valid and invalid requests, as a fresh organization's all-scopes API key, and
every answer must be one the spec documents (status, headers, content type, body schema),
never a 500, with invalid input refused and a missing method a 405 listing the others.

Every check runs but `positive_data_acceptance`: a request the spec's schemas allow may
still be refused by a rule they cannot say (a stage of another process, a reference to a
record that does not exist, a duplicate name), and that is a documented 4xx, not a bug.

The run is reproducible: the seed is fixed, printed, and taken from SALESCORE_FUZZ_SEED
when set; SALESCORE_FUZZ_EXAMPLES sets the examples per operation."""

import json
import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import strategies as st
from schemathesis.config import SchemathesisConfig
from schemathesis.python.asgi import shutdown_lifespans

from salescore.api.app import create_app
from salescore.settings import Settings
from tests.factories import Tenant, new_tenant

SEED = int(os.environ.get("SALESCORE_FUZZ_SEED", "20250101"))
EXAMPLES = int(os.environ.get("SALESCORE_FUZZ_EXAMPLES", "10"))
CONFIG = SchemathesisConfig.from_dict({
    "seed": SEED,
    # The key is sent on every call; generated credentials would only be replaced by it.
    "generation": {"max-examples": EXAMPLES, "database": "none",
                   "with-security-parameters": False},
    "checks": {"positive_data_acceptance": {"enabled": False}},
})
# An import's NDJSON body is raw bytes to schemathesis: lines of small objects, or noise.
schemathesis.openapi.media_type("application/x-ndjson", st.one_of(
    st.binary(max_size=200),
    st.lists(st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=3),
             max_size=3).map(lambda rows: "".join(json.dumps(r) + "\n" for r in rows)
                             .encode())))
# The spec needs no database: an app that never connects gives it, and the app that
# answers (`fuzzed_app`) is named on each call.
contract = schemathesis.openapi.from_dict(
    create_app(Settings(jwt_secret="unused"), "postgresql+asyncpg://unused@localhost/unused")
    .openapi(), config=CONFIG)
contract.app = create_app(Settings(jwt_secret="unused"), "postgresql+asyncpg://unused@x/unused")


@pytest.fixture(scope="module")
def fuzzed_app(settings: Settings, database_url: str) -> Iterator[FastAPI]:
    """An app of its own on the test database: schemathesis calls it from its own event
    loop, and a pool's connections belong to the loop that opened them."""
    print(f"schemathesis seed {SEED}, {EXAMPLES} examples per operation "
          f"(replay with SALESCORE_FUZZ_SEED={SEED})")
    yield create_app(settings, database_url)
    shutdown_lifespans()


@pytest.fixture(scope="module")
async def fuzzed_tenant(app: FastAPI) -> Tenant:
    """The fresh organization every fuzzed request is made in, as its all-scopes key."""
    return await new_tenant(app, "Fuzzed")


@contract.parametrize()
def test_every_operation_keeps_the_contract(case: Any, fuzzed_app: FastAPI,
                                            fuzzed_tenant: Tenant) -> None:
    case.call_and_validate(app=fuzzed_app, headers=fuzzed_tenant.key)
