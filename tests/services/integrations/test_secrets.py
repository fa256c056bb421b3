"""Provider secrets are kept encrypted under the secrets key (the setting, or a key made once
into the data dir), and never shown in a log."""

import base64
import os
import stat

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from salescore.services.integrations.secrets import (
    REDACTED,
    SecretUnreadable,
    decrypt_secret,
    encrypt_secret,
    redact,
)
from salescore.settings import Settings

KEY = os.urandom(32)
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


@given(st.text())
def test_a_secret_decrypts_to_itself(plain):
    assert decrypt_secret(encrypt_secret(plain, KEY), KEY) == plain


def test_the_stored_form_shows_nothing_of_the_secret_and_differs_each_time():
    first, second = encrypt_secret(SECRET, KEY), encrypt_secret(SECRET, KEY)
    assert first != second
    assert SECRET not in first and SECRET.removeprefix("whsec_") not in first
    assert first.startswith("v1.")


def flip(token, at):
    raw = bytearray(base64.urlsafe_b64decode(token.removeprefix("v1.")))
    raw[at] ^= 1
    return "v1." + base64.urlsafe_b64encode(bytes(raw)).decode()


@pytest.mark.parametrize("at", [0, 11, 12, -1], ids=["nonce", "nonce end", "ciphertext", "tag"])
def test_a_tampered_token_does_not_decrypt(at):
    with pytest.raises(SecretUnreadable, match="does not decrypt"):
        decrypt_secret(flip(encrypt_secret(SECRET, KEY), at), KEY)


@pytest.mark.parametrize("token", ["", "v1.", "v1.AAAA", "v2." + "A" * 60, SECRET,
                                   "v1.ÆØÅ", "v1.@@@@"])
def test_a_token_not_made_here_does_not_decrypt(token):
    with pytest.raises(SecretUnreadable):
        decrypt_secret(token, KEY)


def test_a_secret_does_not_decrypt_under_another_key():
    with pytest.raises(SecretUnreadable, match="SALESCORE_SECRETS_KEY"):
        decrypt_secret(encrypt_secret(SECRET, KEY), os.urandom(32))


@pytest.mark.parametrize("length", [0, 16, 31, 33])
def test_the_key_is_32_bytes(length):
    with pytest.raises(ValueError, match="32 bytes"):
        encrypt_secret(SECRET, os.urandom(length))


def test_redacted_headers_keep_their_names_but_not_their_signatures():
    headers = {"webhook-id": "msg_1", "webhook-signature": "v1,abc", "Webhook-Signature": "x",
               "X-DocuSign-Signature-1": "abc=", "x-docusign-signature-12": "def=",
               "Authorization": "Bearer t", "content-type": "application/json"}
    assert redact(headers) == {
        "webhook-id": "msg_1", "webhook-signature": REDACTED, "Webhook-Signature": REDACTED,
        "X-DocuSign-Signature-1": REDACTED, "x-docusign-signature-12": REDACTED,
        "Authorization": REDACTED, "content-type": "application/json"}


def test_the_secrets_key_setting_is_the_key(tmp_path):
    key = os.urandom(32)
    settings = Settings(data_dir=tmp_path, secrets_key=base64.b64encode(key).decode())
    assert settings.secrets_encryption_key() == key
    assert not (tmp_path / "secrets-key").exists()


@pytest.mark.parametrize("value", ["short", base64.b64encode(b"k" * 31).decode(),
                                   base64.b64encode(b"k" * 33).decode(),
                                   base64.urlsafe_b64encode(b"\xff" * 32).decode()])
def test_a_secrets_key_setting_that_is_not_32_bytes_in_base64_is_refused(tmp_path, value):
    with pytest.raises(ValidationError, match="secrets_key"):
        Settings(data_dir=tmp_path, secrets_key=value)


def test_without_the_setting_a_key_is_made_once_into_the_data_dir(tmp_path, monkeypatch):
    monkeypatch.delenv("SALESCORE_SECRETS_KEY", raising=False)
    data_dir = tmp_path / "data"
    key = Settings(data_dir=data_dir).secrets_encryption_key()
    path = data_dir / "secrets-key"
    assert len(key) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert base64.b64decode(path.read_text()) == key
    assert Settings(data_dir=data_dir).secrets_encryption_key() == key
    assert [p.name for p in data_dir.iterdir()] == ["secrets-key"]


def test_a_key_made_by_another_process_first_is_the_one_used(tmp_path, monkeypatch):
    """Two processes starting together: the key that was linked first wins for both."""
    monkeypatch.delenv("SALESCORE_SECRETS_KEY", raising=False)
    theirs = base64.b64encode(os.urandom(32)).decode()
    real_link = os.link

    def link_after_theirs(source, target):
        (tmp_path / "secrets-key").write_text(theirs)
        real_link(source, target)

    monkeypatch.setattr(os, "link", link_after_theirs)
    key = Settings(data_dir=tmp_path).secrets_encryption_key()
    assert key == base64.b64decode(theirs)
    assert [p.name for p in tmp_path.iterdir()] == ["secrets-key"]
