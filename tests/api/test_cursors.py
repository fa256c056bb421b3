"""Opaque cursors round-trip every sort value and refuse anything altered."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from salescore.api.cursors import CursorCodec
from salescore.domain.errors import InvalidInput

codec = CursorCodec(b"k" * 32)
values = st.one_of(
    st.none(), st.booleans(), st.integers(), st.text(),
    st.decimals(allow_nan=False, allow_infinity=False, places=2), st.dates(),
    st.datetimes(timezones=st.just(UTC)))


@given(st.lists(values, max_size=3))
def test_a_cursor_gives_back_what_it_carries(carried: list[object]):
    assert codec.decode("users:id:0", codec.encode("users:id:0", carried)) == carried


def test_a_cursor_of_another_list_or_sort_is_refused():
    cursor = codec.encode("users:id:0", [1, 2])
    with pytest.raises(InvalidInput):
        codec.decode("users:name:0", cursor)


def test_a_cursor_signed_with_another_key_is_refused():
    cursor = CursorCodec(b"x" * 32).encode("users:id:0", [1, 2])
    with pytest.raises(InvalidInput):
        codec.decode("users:id:0", cursor)


@pytest.mark.parametrize("garbage", ["", "!!!", "abc", "A" * 50])
def test_garbage_is_refused(garbage: str):
    with pytest.raises(InvalidInput):
        codec.decode("users:id:0", garbage)


def test_types_survive_the_round_trip():
    carried = [Decimal("1.50"), date(2026, 1, 2), datetime(2026, 1, 2, 3, tzinfo=UTC), True]
    assert [type(v) for v in codec.decode("s", codec.encode("s", carried))] == [
        Decimal, date, datetime, bool]
