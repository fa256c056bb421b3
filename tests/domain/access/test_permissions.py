"""Roles and scopes."""

import pytest

from salescore.domain.access.permissions import (
    ALL_SCOPES,
    Caller,
    Role,
    Scope,
    require,
    scopes_of_role,
)
from salescore.domain.errors import Forbidden


def test_admins_hold_every_scope():
    assert scopes_of_role(Role.ADMIN) == ALL_SCOPES


def test_managers_do_not_administer_users_or_keys():
    scopes = scopes_of_role(Role.MANAGER)
    assert Scope.USERS_WRITE not in scopes
    assert Scope.API_KEYS_WRITE not in scopes
    assert Scope.OPPORTUNITIES_WRITE in scopes
    assert Scope.SALES_SETUP_WRITE in scopes
    assert not {Scope.INTEGRATIONS_READ, Scope.INTEGRATIONS_WRITE, Scope.WEBHOOKS_READ,
                Scope.WEBHOOKS_WRITE} & scopes
    assert {Scope.IMPORTS_READ, Scope.IMPORTS_WRITE, Scope.LEADS_WRITE} <= scopes


def test_sellers_read_everything_but_integrations_webhooks_and_imports_and_write_sales_records():
    scopes = scopes_of_role(Role.SELLER)
    assert {s for s in Scope if s.endswith(":read")} - scopes == {Scope.INTEGRATIONS_READ,
                                                                  Scope.WEBHOOKS_READ,
                                                                  Scope.IMPORTS_READ}
    assert {Scope.OPPORTUNITIES_WRITE, Scope.QUOTES_WRITE, Scope.LEADS_WRITE} <= scopes
    assert Scope.IMPORTS_WRITE not in scopes
    assert Scope.PRODUCTS_WRITE not in scopes
    assert Scope.ORGANIZATION_WRITE not in scopes
    assert Scope.SALES_SETUP_WRITE not in scopes


def test_integrations_get_no_scopes_from_their_role():
    assert scopes_of_role(Role.INTEGRATION) == frozenset()


def test_require_refuses_a_missing_scope():
    caller = Caller(1, Role.INTEGRATION, frozenset({Scope.USERS_READ}), api_key_id=7)
    require(caller, Scope.USERS_READ)
    with pytest.raises(Forbidden):
        require(caller, Scope.USERS_WRITE)


def test_the_actor_names_a_user_or_a_key():
    assert Caller(1, Role.SELLER, frozenset(), user_id=3).actor == {"type": "user", "id": 3}
    assert Caller(1, Role.INTEGRATION, frozenset(), api_key_id=9).actor == {
        "type": "api_key", "id": 9}
