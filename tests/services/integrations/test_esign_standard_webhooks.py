"""Standard Webhooks callbacks (API.md, "Quotes and signing"; DESIGN.md, "Webhooks in"): a
delivery signed with the provider's secret says which answer it brings; anything else is
BadSignature, and a verified body that is not the contract is MalformedCallback naming the
field. Deliveries are signed with the package's own `Webhook.sign`."""

import base64
import json
from datetime import UTC, datetime, timedelta
from math import floor

import pytest
from hypothesis import given
from hypothesis import strategies as st
from standardwebhooks import Webhook

from salescore.domain.integrations.providers import ProviderKind
from salescore.services.integrations.esign import (
    ADAPTERS,
    BadSignature,
    CallbackKind,
    MalformedCallback,
)
from tests.services.integrations.bodies import MISSING, json_values, replaced

ADAPTER = ADAPTERS["standard_webhooks"]
SECRET = ADAPTER.new_secret()
PREVIOUS = ADAPTER.new_secret()
MESSAGE_ID = "msg_2YhmGzFQf9hD8AUQ6Ki4fqcVg3d"
PDF = b"%PDF-1.7\n% signed by the provider\n%%EOF\n"
SIGNED = {
    "type": "quote.signed", "timestamp": "2026-03-31T10:15:02.123456Z",
    "data": {"quote_id": 42, "signer": {"name": "Kari Nordmann", "email": "kari@kunde.no"},
             "signed_at": "2026-03-31T10:15:00Z",
             "document_pdf_base64": base64.b64encode(PDF).decode()},
}


def delivery(body=SIGNED, *, secret=SECRET, at=None, message_id=MESSAGE_ID):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    at = at or datetime.now(UTC)
    return raw, {"webhook-id": message_id, "webhook-timestamp": str(floor(at.timestamp())),
                 "webhook-signature": Webhook(secret).sign(message_id, at, raw)}


def verify(raw, headers, secrets=(SECRET,), now=None):
    return ADAPTER.verify(body=raw, headers=headers, secrets=list(secrets),
                          now=now or datetime.now(UTC))


def test_every_provider_kind_has_its_adapter():
    assert set(ADAPTERS) == set(ProviderKind)
    assert all(adapter.kind == kind for kind, adapter in ADAPTERS.items())


def test_a_new_secret_is_whsec_and_32_random_bytes_in_base64():
    secret = ADAPTER.new_secret()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"), validate=True)) == 32
    assert secret != ADAPTER.new_secret()


def test_a_signed_delivery_says_who_answered_which_quote_how():
    callback = verify(*delivery())
    assert callback.delivery_id == MESSAGE_ID
    assert callback.event_type == "quote.signed"
    assert callback.kind is CallbackKind.SIGNED
    assert callback.quote_id == 42
    assert (callback.signer_name, callback.signer_email) == ("Kari Nordmann", "kari@kunde.no")
    assert callback.signed_at == datetime(2026, 3, 31, 10, 15, tzinfo=UTC)
    assert callback.document_pdf == PDF
    assert callback.comment is None


@pytest.mark.parametrize(("type", "kind"), [
    ("quote.signed", CallbackKind.SIGNED),
    ("quote.change_requested", CallbackKind.CHANGE_REQUESTED),
    ("quote.rejected", CallbackKind.REJECTED)])
def test_each_type_is_its_answer_and_carries_its_comment(type, kind):
    body = replaced(replaced(SIGNED, "type", type), "data.comment", "  Too dear  ")
    callback = verify(*delivery(body))
    assert (callback.kind, callback.event_type, callback.comment) == (kind, type, "Too dear")


def test_the_optional_members_may_be_left_out():
    body = SIGNED
    for path in ("data.signed_at", "data.document_pdf_base64"):
        body = replaced(body, path, MISSING)
    callback = verify(*delivery(body))
    assert (callback.signed_at, callback.document_pdf, callback.comment) == (None, None, None)


def test_header_names_are_read_in_any_case():
    raw, headers = delivery()
    assert verify(raw, {name.title(): value for name, value in headers.items()}).quote_id == 42


def test_the_previous_secret_still_verifies():
    assert verify(*delivery(secret=PREVIOUS), secrets=(SECRET, PREVIOUS)).quote_id == 42


def test_one_verifying_secret_is_enough_beside_a_garbage_one():
    assert verify(*delivery(), secrets=("whsec_!!", SECRET)).quote_id == 42


def test_a_timestamp_four_minutes_old_is_within_the_window():
    now = datetime.now(UTC)
    assert verify(*delivery(at=now - timedelta(minutes=4)), now=now).quote_id == 42


def tampered_body():
    raw, headers = delivery()
    return raw.replace(b"42", b"43"), headers


def without(header):
    raw, headers = delivery()
    del headers[header]
    return raw, headers


def with_header(header, value):
    raw, headers = delivery()
    return raw, {**headers, header: value}


def six_minutes(sign):
    return delivery(at=datetime.now(UTC) + timedelta(minutes=sign * 6))


# Each delivery is made when its test runs: the window is five minutes from now.
@pytest.mark.parametrize(("make", "secrets"), [
    pytest.param(lambda: delivery(secret=PREVIOUS), (SECRET,), id="wrong secret"),
    pytest.param(tampered_body, (SECRET,), id="tampered body"),
    pytest.param(lambda: without("webhook-id"), (SECRET,), id="no webhook-id"),
    pytest.param(lambda: without("webhook-timestamp"), (SECRET,), id="no webhook-timestamp"),
    pytest.param(lambda: without("webhook-signature"), (SECRET,), id="no webhook-signature"),
    pytest.param(lambda: (delivery()[0], {}), (SECRET,), id="no headers"),
    pytest.param(delivery, (), id="no secret"),
    pytest.param(delivery, ("not base64 at all!",), id="garbage secret"),
    pytest.param(delivery, ("whsec_",), id="empty secret"),
    pytest.param(delivery, ("whsec_ÆØÅ",), id="non-ASCII secret"),
    pytest.param(delivery, ("whsec_\ud800",), id="lone surrogate secret"),
    pytest.param(lambda: with_header("webhook-signature", "v1,@@not base64@@"), (SECRET,),
                 id="non-base64 signature"),
    pytest.param(lambda: with_header("webhook-signature", "v1,ÆØÅ\ud800"), (SECRET,),
                 id="non-ASCII signature"),
    pytest.param(lambda: with_header("webhook-timestamp", "yesterday"), (SECRET,),
                 id="timestamp not a number"),
    pytest.param(lambda: with_header("webhook-timestamp", "9" * 5000), (SECRET,),
                 id="timestamp too long"),
    pytest.param(lambda: six_minutes(-1), (SECRET,), id="timestamp 6 minutes old"),
    pytest.param(lambda: six_minutes(+1), (SECRET,), id="timestamp 6 minutes ahead"),
    pytest.param(lambda: (b"\xff\xfe\x00 not UTF-8", delivery()[1]), (SECRET,),
                 id="non-UTF-8 body under another body's signature"),
])
def test_anything_but_a_matching_signature_in_time_is_a_bad_signature(make, secrets):
    raw, headers = make()
    with pytest.raises(BadSignature):
        verify(raw, headers, secrets=secrets)


def test_the_window_is_checked_against_now_not_only_the_system_clock():
    """The package's own check uses the system clock; `now` is what counts."""
    raw, headers = delivery()
    with pytest.raises(BadSignature, match="5 minutes"):
        verify(raw, headers, now=datetime.now(UTC) + timedelta(minutes=6))


@pytest.mark.parametrize("raw", [b"\xff\xfe not UTF-8", b"not json", b"[1, 2]", b'"text"',
                                 b"[" * 100_000])
def test_a_signed_body_that_is_no_json_object_is_malformed(raw):
    with pytest.raises(MalformedCallback) as error:
        verify(*delivery(raw))
    assert error.value.field == "body"


@pytest.mark.parametrize(("path", "value", "field"), [
    ("type", "quote.viewed", "type"),
    ("type", MISSING, "type"),
    ("type", ["quote.signed"], "type"),
    ("timestamp", MISSING, "timestamp"),
    ("timestamp", "yesterday", "timestamp"),
    ("timestamp", "2026-03-31T10:15:02", "timestamp"),
    ("data", MISSING, "data"),
    ("data", [], "data"),
    ("data.quote_id", MISSING, "data.quote_id"),
    ("data.quote_id", 0, "data.quote_id"),
    ("data.quote_id", -7, "data.quote_id"),
    ("data.quote_id", "42", "data.quote_id"),
    ("data.quote_id", 4.2, "data.quote_id"),
    ("data.quote_id", True, "data.quote_id"),
    ("data.quote_id", 2**63, "data.quote_id"),
    ("data.signer", MISSING, "data.signer"),
    ("data.signer", "Kari", "data.signer"),
    ("data.signer.name", MISSING, "data.signer.name"),
    ("data.signer.name", "   ", "data.signer.name"),
    ("data.signer.name", "K" * 201, "data.signer.name"),
    ("data.signer.name", 7, "data.signer.name"),
    ("data.signer.name", "Kari\x00", "data.signer.name"),
    ("data.signer.name", "Kari \ud800", "data.signer.name"),
    ("data.signer.email", MISSING, "data.signer.email"),
    ("data.signer.email", "k" * 310 + "@kunde.no.x", "data.signer.email"),
    ("data.comment", 5, "data.comment"),
    ("data.comment", "c" * 10_001, "data.comment"),
    ("data.signed_at", "yesterday", "data.signed_at"),
    ("data.signed_at", "2026-03-31", "data.signed_at"),
    ("data.signed_at", "2026-03-31T10:15:00", "data.signed_at"),
    ("data.document_pdf_base64", "not base64!", "data.document_pdf_base64"),
    ("data.document_pdf_base64", base64.b64encode(b"<html>").decode(),
     "data.document_pdf_base64"),
    ("data.document_pdf_base64", "ÆØÅ", "data.document_pdf_base64"),
    ("data.document_pdf_base64", 12, "data.document_pdf_base64"),
])
def test_a_verified_body_off_the_contract_is_malformed_naming_the_field(path, value, field):
    with pytest.raises(MalformedCallback) as error:
        verify(*delivery(replaced(SIGNED, path, value)))
    assert error.value.field == field
    assert str(error.value)


def test_a_change_request_must_say_what_to_change():
    body = replaced(SIGNED, "type", "quote.change_requested")
    with pytest.raises(MalformedCallback) as error:
        verify(*delivery(replaced(body, "data.comment", " ")))
    assert error.value.field == "data.comment"


def test_a_webhook_id_too_long_to_keep_is_malformed():
    with pytest.raises(MalformedCallback) as error:
        verify(*delivery(message_id="m" * 201))
    assert error.value.field == "webhook-id"


def test_a_name_and_an_email_at_their_limits_are_taken():
    email = "k" * 311 + "@kunde.no"
    body = replaced(replaced(SIGNED, "data.signer.name", "K" * 200), "data.signer.email", email)
    callback = verify(*delivery(body))
    assert (callback.signer_name, callback.signer_email) == ("K" * 200, email)


header_names = st.sampled_from(["webhook-id", "webhook-timestamp", "webhook-signature",
                                "Webhook-Signature"]) | st.text(max_size=30)
header_values = (st.text(max_size=80)
                 | st.just(str(floor(datetime.now(UTC).timestamp())))
                 | st.from_regex(r"v1,[A-Za-z0-9+/=]{0,60}", fullmatch=True))


@given(st.binary(max_size=300), st.dictionaries(header_names, header_values, max_size=6),
       st.lists(st.text(max_size=60) | st.just(SECRET), max_size=3))
def test_unsigned_deliveries_raise_nothing_but_bad_signature(raw, headers, secrets):
    with pytest.raises(BadSignature):
        verify(raw, headers, secrets=secrets)


paths = st.sampled_from(["type", "timestamp", "data", "data.quote_id", "data.signer",
                         "data.signer.name", "data.signer.email", "data.comment",
                         "data.signed_at", "data.document_pdf_base64"])


@given(st.lists(st.tuples(paths, json_values | st.just(MISSING)), max_size=4)
       | json_values.map(lambda value: [("", value)]))
def test_signed_bodies_of_any_shape_are_a_callback_or_malformed(changes):
    body = SIGNED
    for path, value in changes:
        body = value if path == "" else replaced(body, path, value)
    try:
        callback = verify(*delivery(body))
    except MalformedCallback as error:
        assert error.field
    else:
        assert callback.kind is not CallbackKind.IGNORED
        assert callback.quote_id is not None and callback.quote_id >= 1
