"""Check that a webhook message really comes from salescore, with the standard library only.

salescore signs each message the Standard Webhooks way: HMAC-SHA256, keyed with the
endpoint's secret (the bytes that `whsec_<base64>` stands for), over
`<webhook-id>.<webhook-timestamp>.<raw body>`, sent as `v1,<base64 of the digest>` in
`webhook-signature`. During a secret rotation the header holds two signatures, separated
by a space; one matching is enough. Run this file to see it accept a message and refuse a
changed one.
"""

import base64
import hashlib
import hmac
import time
from collections.abc import Mapping

TOLERANCE_SECONDS = 5 * 60  # refuse messages signed more than five minutes away from now


def verify(secret: str, headers: Mapping[str, str], body: bytes) -> bool:
    """True when `body` (the raw request body, before any JSON parsing) carries a valid
    signature made with `secret` (`whsec_...`) less than five minutes from now."""
    named = {name.lower(): value for name, value in headers.items()}
    message_id = named.get("webhook-id", "")
    timestamp = named.get("webhook-timestamp", "")
    signatures = named.get("webhook-signature", "")
    if not (message_id and timestamp.isascii() and timestamp.isdigit() and signatures):
        return False
    if abs(time.time() - int(timestamp)) > TOLERANCE_SECONDS:
        return False
    key = base64.b64decode(secret.removeprefix("whsec_"), validate=True)
    signed = f"{message_id}.{timestamp}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest())
    for candidate in signatures.split(" "):
        version, _, signature = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(signature.encode(), expected):
            return True
    return False


if __name__ == "__main__":
    demo_secret = "whsec_" + base64.b64encode(b"an example key of 32 bytes......").decode()
    body = b'{"id":42,"type":"opportunity.won","data":{}}'
    stamp = str(int(time.time()))
    digest = hmac.new(base64.b64decode(demo_secret[6:]), f"42.{stamp}.".encode() + body,
                      hashlib.sha256).digest()
    headers = {"webhook-id": "42", "webhook-timestamp": stamp,
               "webhook-signature": "v1," + base64.b64encode(digest).decode()}
    print("genuine message accepted:", verify(demo_secret, headers, body))
    print("changed message accepted:", verify(demo_secret, headers, body.replace(b"42", b"43")))
