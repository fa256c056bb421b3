"""A quote's lifecycle, DOMAIN.md §6: its status over time, what each status allows, its
number, its link's token and where a signature moves the opportunity."""

import base64
import hashlib
import secrets
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from salescore.domain.errors import Conflict, Gone, InvalidInput, NotFound
from salescore.domain.quotes.quotes import (
    Answer,
    QuoteStatus,
    checked_valid_until,
    effective_status,
    ensure_answerable,
    ensure_editable,
    ensure_sendable,
    is_token_shaped,
    quote_number,
    signed_stage,
    token_hash,
)
from salescore.domain.sales.opportunities import Status
from salescore.domain.sales.processes import Stage, StageKind

DAY = date(2026, 3, 31)
NOT_DRAFT = [s for s in QuoteStatus if s is not QuoteStatus.DRAFT]


def stage(id: int, position: int, kind: StageKind = StageKind.OPEN,
          marked: bool = False) -> Stage:
    return Stage(id, 1, f"stage {id}", position, Decimal(10 * position), kind,
                 marks_quote_signed=marked)


def test_a_sent_quote_expires_the_day_after_its_valid_until_day():
    assert effective_status(QuoteStatus.SENT, DAY, DAY + timedelta(days=1)) \
        is QuoteStatus.EXPIRED


def test_a_sent_quote_is_still_sent_on_its_valid_until_day():
    assert effective_status(QuoteStatus.SENT, DAY, DAY) is QuoteStatus.SENT


@pytest.mark.parametrize("stored", [s for s in QuoteStatus if s is not QuoteStatus.SENT])
def test_only_a_sent_quote_expires(stored):
    assert effective_status(stored, DAY, DAY + timedelta(days=400)) is stored


@given(st.sampled_from(QuoteStatus), st.dates(), st.dates())
def test_the_effective_status_is_the_stored_one_but_for_a_sent_quote_past_its_day(
        stored, valid_until, today):
    expired = stored is QuoteStatus.SENT and today > valid_until
    assert effective_status(stored, valid_until, today) is (
        QuoteStatus.EXPIRED if expired else stored)


def test_a_draft_can_be_changed():
    ensure_editable(QuoteStatus.DRAFT)


@pytest.mark.parametrize("status", NOT_DRAFT)
def test_only_a_draft_can_be_changed(status):
    with pytest.raises(Conflict, match="only a draft quote can be changed"):
        ensure_editable(status)


def test_a_draft_with_a_line_can_be_sent():
    ensure_sendable(QuoteStatus.DRAFT, 1)


def test_a_quote_without_lines_cannot_be_sent():
    with pytest.raises(InvalidInput) as error:
        ensure_sendable(QuoteStatus.DRAFT, 0)
    assert error.value.errors[0].field == "lines"


@pytest.mark.parametrize("status", NOT_DRAFT)
def test_only_a_draft_can_be_sent(status):
    with pytest.raises(Conflict):
        ensure_sendable(status, 3)


def test_a_sent_quote_can_be_answered():
    ensure_answerable(QuoteStatus.SENT)


@pytest.mark.parametrize("status", [
    QuoteStatus.SIGNED, QuoteStatus.CHANGE_REQUESTED, QuoteStatus.REJECTED])
def test_a_quote_is_answered_only_once(status):
    with pytest.raises(Conflict, match="the quote has been answered"):
        ensure_answerable(status)


@pytest.mark.parametrize("status", [QuoteStatus.EXPIRED, QuoteStatus.SUPERSEDED])
def test_an_expired_or_superseded_quote_is_gone(status):
    with pytest.raises(Gone):
        ensure_answerable(status)


def test_an_unsent_draft_cannot_be_found_by_a_customer():
    with pytest.raises(NotFound):
        ensure_answerable(QuoteStatus.DRAFT)


def test_a_quote_past_its_day_cannot_be_answered():
    with pytest.raises(Gone):
        ensure_answerable(effective_status(QuoteStatus.SENT, DAY, DAY + timedelta(days=1)))


@pytest.mark.parametrize("valid_until", [DAY, DAY + timedelta(days=1)])
def test_a_quote_may_be_valid_until_today_or_later(valid_until):
    assert checked_valid_until(valid_until, DAY) == valid_until


def test_a_quote_cannot_be_valid_until_a_past_day():
    with pytest.raises(InvalidInput) as error:
        checked_valid_until(DAY - timedelta(days=1), DAY)
    assert error.value.errors[0].field == "valid_until"
    with pytest.raises(InvalidInput) as error:
        checked_valid_until(DAY - timedelta(days=1), DAY, "quote.valid_until")
    assert error.value.errors[0].field == "quote.valid_until"


@pytest.mark.parametrize(("answer", "status", "event"), [
    (Answer.SIGNED, QuoteStatus.SIGNED, "quote.signed"),
    (Answer.CHANGE_REQUESTED, QuoteStatus.CHANGE_REQUESTED, "quote.change_requested"),
    (Answer.REJECTED, QuoteStatus.REJECTED, "quote.rejected")])
def test_each_answer_leads_to_its_status_and_event(answer, status, event):
    assert answer.status is status
    assert answer.event_type == event


@pytest.mark.parametrize(("year", "n", "number"), [
    (2026, 1, "Q-2026-0001"), (2026, 42, "Q-2026-0042"), (2026, 9999, "Q-2026-9999"),
    (2026, 12345, "Q-2026-12345"), (2027, 1, "Q-2027-0001")])
def test_a_quote_number_pads_n_to_at_least_four_digits(year, n, number):
    assert quote_number(year, n) == number


def test_quote_numbers_start_at_one():
    with pytest.raises(ValueError):
        quote_number(2026, 0)


@given(st.integers(min_value=1, max_value=10**9))
def test_a_quote_number_reads_back_as_its_year_and_n(n):
    prefix, year, digits = quote_number(2026, n).split("-")
    assert (prefix, year, int(digits)) == ("Q", "2026", n)
    assert len(digits) == max(4, len(str(n)))


def test_a_token_is_stored_as_the_sha256_hex_of_its_utf8():
    assert token_hash("abc") == \
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert token_hash("é") == hashlib.sha256("é".encode()).hexdigest()


def test_a_new_token_is_token_shaped():
    assert is_token_shaped(secrets.token_urlsafe(32))


@given(st.binary(min_size=32, max_size=32))
def test_every_256_bit_urlsafe_token_is_token_shaped(raw):
    assert is_token_shaped(base64.urlsafe_b64encode(raw).rstrip(b"=").decode())


@pytest.mark.parametrize("token", [
    "", "a" * 42, "a" * 44, "a" * 42 + "+", "a" * 42 + "/", "a" * 42 + "=", "a" * 42 + "é",
    "a" * 43 + "\n", "a" * 42 + " ", "../" + "a" * 40, "a" * 42 + "\u0663"])
def test_anything_else_is_not_a_token(token):
    assert not is_token_shaped(token)


STAGES = (stage(1, 1), stage(2, 2, marked=True), stage(3, 3),
          stage(4, 4, StageKind.WON), stage(5, 5, StageKind.LOST))


def test_signing_moves_an_open_opportunity_forward_to_the_marked_stage():
    assert signed_stage(STAGES, 1, Status.OPEN) == 2


@pytest.mark.parametrize("current", [2, 3, 4, 5])
def test_an_opportunity_on_or_past_the_marked_stage_stays(current):
    assert signed_stage(STAGES, current, Status.OPEN) is None


@pytest.mark.parametrize("status", [Status.WON, Status.LOST, Status.EXPIRED])
def test_a_closed_opportunity_stays_where_it_is(status):
    assert signed_stage(STAGES, 1, status) is None


def test_without_a_marked_stage_the_opportunity_stays():
    assert signed_stage((stage(1, 1), stage(2, 2)), 1, Status.OPEN) is None


def test_a_marked_won_stage_is_reached_from_any_open_stage_before_it():
    stages = (stage(1, 1), stage(2, 2), stage(3, 3, StageKind.WON, marked=True))
    assert [signed_stage(stages, current, Status.OPEN) for current in (1, 2)] == [3, 3]


def test_the_order_is_by_position_not_by_id():
    stages = (stage(9, 1), stage(3, 2, marked=True), stage(1, 3))
    assert signed_stage(stages, 9, Status.OPEN) == 3
    assert signed_stage(stages, 1, Status.OPEN) is None


def test_an_opportunity_on_a_stage_outside_the_process_stays():
    assert signed_stage(STAGES, 99, Status.OPEN) is None


@given(st.integers(min_value=1, max_value=8), st.data())
def test_signing_only_ever_moves_forward_onto_the_marked_stage(count, data):
    marked = data.draw(st.none() | st.integers(min_value=1, max_value=count))
    current = data.draw(st.integers(min_value=1, max_value=count))
    stages = tuple(stage(100 + p, p, marked=p == marked) for p in range(1, count + 1))
    moved_to = signed_stage(stages, 100 + current, Status.OPEN)
    if marked is not None and current < marked:
        assert moved_to == 100 + marked
    else:
        assert moved_to is None
