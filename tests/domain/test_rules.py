"""Small rules: versions, changes, currencies, emails, initials, sorting."""

import pytest

from salescore.domain.access.organization import (
    check_currency,
    check_email,
    check_user_role,
    initials_of,
)
from salescore.domain.access.permissions import Role
from salescore.domain.errors import InvalidInput, PreconditionFailed, check_version
from salescore.domain.events import changes
from salescore.domain.listing import Sort


def test_a_stale_version_is_refused_and_none_means_any():
    check_version(3, 3)
    check_version(3, None)
    with pytest.raises(PreconditionFailed):
        check_version(3, 2)


def test_changes_list_only_fields_that_differ():
    assert changes({"a": 1, "b": 2}, {"a": 1, "b": 3, "c": None}) == {
        "b": {"from": 2, "to": 3}}


def test_a_currency_is_three_capital_letters():
    assert check_currency("NOK") == "NOK"
    for bad in ("nok", "NO", "NOKK", "N0K"):
        with pytest.raises(InvalidInput) as error:
            check_currency(bad)
        assert error.value.errors[0].field == "currency"


def test_an_email_needs_an_at_and_a_domain():
    assert check_email("a@b.no") == "a@b.no"
    with pytest.raises(InvalidInput):
        check_email("not-an-email")


def test_initials_are_the_first_letters_of_the_name():
    assert initials_of("Ola Nordmann") == "ON"
    assert initials_of("anne marie de la rue") == "AMDL"


def test_users_cannot_have_the_integration_role():
    assert check_user_role(Role.SELLER) is Role.SELLER
    with pytest.raises(InvalidInput):
        check_user_role(Role.INTEGRATION)


def test_a_minus_sorts_descending():
    assert Sort.parse("-name") == Sort("name", True)
    assert Sort.parse("name") == Sort("name", False)
