"""DocuSign Connect callbacks (API.md, "Quotes and signing"; DESIGN.md, "Webhooks in"): a
JSON SIM message whose X-DocuSign-Signature-N is the HMAC-SHA256 of its raw body under the
provider's secret says which answer it brings; anything else is BadSignature, and a verified
body that is not what Connect sends is MalformedCallback naming the field."""

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from salescore.services.integrations.esign import (
    ADAPTERS,
    BadSignature,
    CallbackKind,
    MalformedCallback,
)
from tests.services.integrations.bodies import MISSING, json_values, replaced

ADAPTER = ADAPTERS["docusign_connect"]
SECRET = ADAPTER.new_secret()
PREVIOUS = ADAPTER.new_secret()
ENVELOPE = "93be49ab-afa0-4adf-933c-f752070d71ec"
GENERATED = "2026-03-31T10:15:02.1230000Z"
SUMMARY = "data.envelopeSummary"
SIGNER = f"{SUMMARY}.recipients.signers.0"
QUOTE_FIELD = f"{SUMMARY}.customFields.textCustomFields.1"
COMPLETED = {
    "event": "envelope-completed", "apiVersion": "v2.1",
    "uri": f"/restapi/v2.1/accounts/0e8c3a1b/envelopes/{ENVELOPE}", "retryCount": 0,
    "configurationId": 10418371, "generatedDateTime": GENERATED,
    "data": {
        "accountId": "0e8c3a1b", "userId": "5f2d9c4e", "envelopeId": ENVELOPE,
        "envelopeSummary": {
            "status": "completed", "emailSubject": "Please sign quote Q-2026-0007",
            "completedDateTime": "2026-03-31T10:15:01.5000000Z",
            "customFields": {
                "textCustomFields": [
                    {"fieldId": "1", "name": "crm_case", "value": "A-17", "show": "false"},
                    {"fieldId": "2", "name": "salescore_quote_id", "value": "42",
                     "show": "false", "required": "false"}],
                "listCustomFields": []},
            "recipients": {"signers": [
                {"name": "Kari Nordmann", "email": "kari@kunde.no", "recipientId": "1",
                 "routingOrder": "1", "status": "completed",
                 "signedDateTime": "2026-03-31T10:14:59.2500000Z"}]},
        },
    },
}
DECLINED = replaced(replaced(COMPLETED, "event", "envelope-declined"),
                    f"{SUMMARY}.recipients.signers", [
                        {"name": "Ola Nordmann", "email": "ola@kunde.no", "status": "sent"},
                        {"name": "Kari Nordmann", "email": "kari@kunde.no",
                         "status": "declined", "declinedReason": " The price is too high "}])


def signature(raw, secret=SECRET):
    return base64.b64encode(hmac.new(secret.encode(), raw, hashlib.sha256).digest()).decode()


def delivery(body=COMPLETED, *, secret=SECRET):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return raw, {"content-type": "application/json",
                 "x-docusign-signature-1": signature(raw, secret)}


def verify(raw, headers, secrets=(SECRET,)):
    return ADAPTER.verify(body=raw, headers=headers, secrets=list(secrets),
                          now=datetime.now(UTC))


def test_a_new_secret_is_a_random_key_of_32_bytes_in_base64():
    secret = ADAPTER.new_secret()
    assert len(base64.b64decode(secret, validate=True)) == 32
    assert secret != ADAPTER.new_secret()


def test_a_completed_envelope_signs_the_quote_in_its_custom_field():
    callback = verify(*delivery())
    assert callback.delivery_id == f"{ENVELOPE}:envelope-completed:{GENERATED}"
    assert callback.event_type == "envelope-completed"
    assert callback.kind is CallbackKind.SIGNED
    assert callback.quote_id == 42
    assert (callback.signer_name, callback.signer_email) == ("Kari Nordmann", "kari@kunde.no")
    assert callback.signed_at == datetime(2026, 3, 31, 10, 14, 59, 250000, tzinfo=UTC)
    assert (callback.comment, callback.document_pdf) == (None, None)


def test_without_the_signers_time_the_envelopes_completion_is_the_time_of_signing():
    body = replaced(COMPLETED, f"{SIGNER}.signedDateTime", MISSING)
    assert verify(*delivery(body)).signed_at == datetime(2026, 3, 31, 10, 15, 1, 500000,
                                                         tzinfo=UTC)
    body = replaced(body, f"{SUMMARY}.completedDateTime", MISSING)
    assert verify(*delivery(body)).signed_at is None


def test_a_declined_envelope_rejects_with_the_decliners_reason():
    callback = verify(*delivery(DECLINED))
    assert callback.kind is CallbackKind.REJECTED
    assert callback.delivery_id == f"{ENVELOPE}:envelope-declined:{GENERATED}"
    assert (callback.signer_name, callback.comment) == ("Kari Nordmann", "The price is too high")
    assert callback.signed_at is None


def test_a_declined_envelope_without_a_declined_signer_names_the_first():
    body = replaced(DECLINED, f"{SUMMARY}.recipients.signers.1.status", "completed")
    callback = verify(*delivery(body))
    assert (callback.signer_name, callback.comment) == ("Ola Nordmann", None)


def test_an_envelope_that_is_no_quote_of_ours_names_no_quote():
    body = replaced(COMPLETED, QUOTE_FIELD, MISSING)
    callback = verify(*delivery(body))
    assert (callback.kind, callback.quote_id) == (CallbackKind.SIGNED, None)
    assert verify(*delivery(replaced(COMPLETED, f"{SUMMARY}.customFields", MISSING))
                  ).quote_id is None


def test_an_envelope_without_recipients_names_no_signer():
    callback = verify(*delivery(replaced(COMPLETED, f"{SUMMARY}.recipients", MISSING)))
    assert (callback.signer_name, callback.signer_email, callback.quote_id) == (None, None, 42)


@pytest.mark.parametrize("event", ["envelope-sent", "envelope-delivered", "envelope-voided",
                                   "recipient-completed", "template-created"])
def test_other_events_are_ignored(event):
    callback = verify(*delivery(replaced(COMPLETED, "event", event)))
    assert callback.kind is CallbackKind.IGNORED
    assert callback.event_type == event
    assert callback.delivery_id == f"{ENVELOPE}:{event}:{GENERATED}"


def test_an_ignored_event_is_acknowledged_whatever_else_its_body_holds():
    body = replaced(replaced(COMPLETED, "event", "envelope-voided"), "data", "no envelope")
    callback = verify(*delivery(body))
    assert (callback.kind, callback.quote_id) == (CallbackKind.IGNORED, None)
    assert callback.delivery_id == f":envelope-voided:{GENERATED}"


def test_signature_headers_are_read_in_any_case_and_any_one_may_match():
    raw, _ = delivery()
    headers = {"X-DocuSign-Signature-1": signature(raw, ADAPTER.new_secret()),
               "X-DOCUSIGN-SIGNATURE-2": signature(raw)}
    assert verify(raw, headers).quote_id == 42


def test_the_previous_secret_still_verifies():
    assert verify(*delivery(secret=PREVIOUS), secrets=(SECRET, PREVIOUS)).quote_id == 42


def with_headers(**headers):
    raw, _ = delivery()
    return raw, {name.replace("_", "-"): value for name, value in headers.items()}


@pytest.mark.parametrize(("raw_headers", "secrets"), [
    pytest.param(delivery(secret=PREVIOUS), (SECRET,), id="wrong secret"),
    pytest.param((delivery()[0].replace(b'"42"', b'"43"'), delivery()[1]), (SECRET,),
                 id="tampered body"),
    pytest.param((delivery()[0], {}), (SECRET,), id="no signature header"),
    pytest.param(with_headers(x_docusign_signature=signature(delivery()[0])), (SECRET,),
                 id="a signature header without its number"),
    pytest.param(with_headers(x_docusign_signature_1="@@not base64@@"), (SECRET,),
                 id="non-base64 signature"),
    pytest.param(with_headers(x_docusign_signature_1="ÆØÅ\ud800"), (SECRET,),
                 id="non-ASCII signature"),
    pytest.param(with_headers(x_docusign_signature_1=""), (SECRET,), id="empty signature"),
    pytest.param(delivery(), (), id="no secret"),
    pytest.param(delivery(), ("",), id="empty secret"),
    pytest.param(delivery(), ("\ud800",), id="lone surrogate secret"),
    pytest.param((b"\xff\xfe\x00 not UTF-8", delivery()[1]), (SECRET,),
                 id="non-UTF-8 body under another body's signature"),
])
def test_anything_but_a_matching_signature_is_a_bad_signature(raw_headers, secrets):
    with pytest.raises(BadSignature):
        verify(*raw_headers, secrets=secrets)


@pytest.mark.parametrize("raw", [b"\xff\xfe not UTF-8", b"<xml/>", b"[1]", b"{" * 100_000])
def test_a_signed_body_that_is_no_json_object_is_malformed(raw):
    with pytest.raises(MalformedCallback) as error:
        verify(*delivery(raw))
    assert error.value.field == "body"


@pytest.mark.parametrize(("body", "path", "value", "field"), [
    (COMPLETED, "event", MISSING, "event"),
    (COMPLETED, "event", 7, "event"),
    (COMPLETED, "generatedDateTime", MISSING, "generatedDateTime"),
    (COMPLETED, "data", MISSING, "data"),
    (COMPLETED, "data.envelopeId", MISSING, "data.envelopeId"),
    (COMPLETED, "data.envelopeId", "e" * 201, "data.envelopeId"),
    (COMPLETED, SUMMARY, [], SUMMARY),
    (COMPLETED, f"{SUMMARY}.customFields", "salescore_quote_id=42",
     f"{SUMMARY}.customFields"),
    (COMPLETED, f"{SUMMARY}.customFields.textCustomFields", {},
     f"{SUMMARY}.customFields.textCustomFields"),
    (COMPLETED, f"{SUMMARY}.customFields.textCustomFields.0", "crm_case",
     f"{SUMMARY}.customFields.textCustomFields.0"),
    (COMPLETED, f"{QUOTE_FIELD}.value", "Q-2026-0007", f"{QUOTE_FIELD}.value"),
    (COMPLETED, f"{QUOTE_FIELD}.value", "0", f"{QUOTE_FIELD}.value"),
    (COMPLETED, f"{QUOTE_FIELD}.value", "-42", f"{QUOTE_FIELD}.value"),
    (COMPLETED, f"{QUOTE_FIELD}.value", "4.2", f"{QUOTE_FIELD}.value"),
    (COMPLETED, f"{QUOTE_FIELD}.value", "١٢", f"{QUOTE_FIELD}.value"),
    (COMPLETED, f"{QUOTE_FIELD}.value", str(2**63), f"{QUOTE_FIELD}.value"),
    (COMPLETED, f"{QUOTE_FIELD}.value", MISSING, f"{QUOTE_FIELD}.value"),
    (COMPLETED, f"{SUMMARY}.recipients", "Kari", f"{SUMMARY}.recipients"),
    (COMPLETED, f"{SUMMARY}.recipients.signers", {}, f"{SUMMARY}.recipients.signers"),
    (COMPLETED, SIGNER, "Kari", SIGNER),
    (COMPLETED, f"{SIGNER}.name", "K" * 201, f"{SIGNER}.name"),
    (COMPLETED, f"{SIGNER}.name", "Kari\x00", f"{SIGNER}.name"),
    (COMPLETED, f"{SIGNER}.email", "k" * 321, f"{SIGNER}.email"),
    (COMPLETED, f"{SIGNER}.signedDateTime", "yesterday", f"{SIGNER}.signedDateTime"),
    (replaced(COMPLETED, f"{SIGNER}.signedDateTime", MISSING),
     f"{SUMMARY}.completedDateTime", "2026-03-31T10:15:01",
     f"{SUMMARY}.completedDateTime"),
    (DECLINED, f"{SUMMARY}.recipients.signers.1.declinedReason", "r" * 10_001,
     f"{SUMMARY}.recipients.signers.1.declinedReason"),
])
def test_a_verified_answer_off_the_format_is_malformed_naming_the_field(body, path, value,
                                                                        field):
    with pytest.raises(MalformedCallback) as error:
        verify(*delivery(replaced(body, path, value)))
    assert error.value.field == field
    assert str(error.value)


def test_a_quote_id_with_surrounding_spaces_is_read():
    assert verify(*delivery(replaced(COMPLETED, f"{QUOTE_FIELD}.value", " 42 "))).quote_id == 42


header_names = st.sampled_from(["X-DocuSign-Signature-1", "x-docusign-signature-2",
                                "X-DocuSign-Signature-x"]) | st.text(max_size=30)
header_values = st.text(max_size=60) | st.from_regex(r"[A-Za-z0-9+/]{43}=", fullmatch=True)


@given(st.binary(max_size=300), st.dictionaries(header_names, header_values, max_size=6),
       st.lists(st.text(max_size=60) | st.just(SECRET), max_size=3))
def test_unsigned_deliveries_raise_nothing_but_bad_signature(raw, headers, secrets):
    with pytest.raises(BadSignature):
        verify(raw, headers, secrets=secrets)


paths = st.sampled_from([
    "event", "generatedDateTime", "data", "data.envelopeId", SUMMARY,
    f"{SUMMARY}.customFields", f"{SUMMARY}.customFields.textCustomFields", QUOTE_FIELD,
    f"{QUOTE_FIELD}.name", f"{QUOTE_FIELD}.value", f"{SUMMARY}.recipients",
    f"{SUMMARY}.recipients.signers", SIGNER, f"{SIGNER}.name", f"{SIGNER}.email",
    f"{SIGNER}.status", f"{SIGNER}.signedDateTime", f"{SIGNER}.declinedReason",
    f"{SUMMARY}.completedDateTime"])
events = st.sampled_from(["envelope-completed", "envelope-declined", "envelope-sent"])


@given(events, st.lists(st.tuples(paths, json_values | st.just(MISSING)), max_size=4)
       | json_values.map(lambda value: [("", value)]))
def test_signed_bodies_of_any_shape_are_a_callback_or_malformed(event, changes):
    body = replaced(COMPLETED, "event", event)
    for path, value in changes:
        body = value if path == "" else replaced(body, path, value)
    try:
        callback = verify(*delivery(body))
    except MalformedCallback as error:
        assert error.field
    else:
        assert callback.quote_id is None or callback.quote_id >= 1
        assert "\x00" not in callback.delivery_id
