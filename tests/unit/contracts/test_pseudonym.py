"""pseudonymize(raw_id, key) = HMAC-SHA256, hex."""

from __future__ import annotations

import hashlib
import hmac
import re

import pytest

from dxpulse.contracts import pseudonymize
from dxpulse.contracts.pseudonym import MIN_KEY_BYTES
from tests.unit.contracts.examples import accepted, make

KEY = "khoa-bi-mat-cua-so-tttt-ha-noi"
CCCD = "001204012345"


def test_rfc4231_test_case_1() -> None:
    key = b"\x0b" * 20
    assert (
        pseudonymize("Hi There", key)
        == "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
    )


def test_is_hmac_sha256_hex_of_the_utf8_id() -> None:
    expected = hmac.new(KEY.encode(), CCCD.encode(), hashlib.sha256).hexdigest()
    assert pseudonymize(CCCD, KEY) == expected
    assert (
        pseudonymize("Nguyễn Văn An", KEY)
        == hmac.new(KEY.encode(), "Nguyễn Văn An".encode(), hashlib.sha256).hexdigest()
    )


def test_is_64_lowercase_hex() -> None:
    assert re.fullmatch(r"[0-9a-f]{64}", pseudonymize(CCCD, KEY))


def test_is_deterministic_and_keyed() -> None:
    assert pseudonymize(CCCD, KEY) == pseudonymize(CCCD, KEY)
    assert pseudonymize(CCCD, KEY) != pseudonymize(CCCD, KEY + "-2")
    assert pseudonymize(CCCD, KEY) != pseudonymize("001204012346", KEY)
    assert pseudonymize(CCCD, KEY) != hashlib.sha256(CCCD.encode()).hexdigest()


def test_str_and_bytes_keys_agree() -> None:
    assert pseudonymize(CCCD, KEY) == pseudonymize(CCCD, KEY.encode("utf-8"))


def test_surrounding_whitespace_is_ignored() -> None:
    assert pseudonymize(f"  {CCCD}\n", KEY) == pseudonymize(CCCD, KEY)


@pytest.mark.parametrize("key", ["", "short", "x" * (MIN_KEY_BYTES - 1), b"\x00" * 15])
def test_short_keys_are_refused(key: str | bytes) -> None:
    with pytest.raises(ValueError, match=f"at least {MIN_KEY_BYTES} bytes"):
        pseudonymize(CCCD, key)


def test_minimum_key_length_is_accepted() -> None:
    assert MIN_KEY_BYTES == 16
    assert len(pseudonymize(CCCD, "k" * MIN_KEY_BYTES)) == 64


@pytest.mark.parametrize("raw_id", ["", "   ", "\n"])
def test_empty_ids_are_refused(raw_id: str) -> None:
    with pytest.raises(ValueError, match="raw_id is empty"):
        pseudonymize(raw_id, KEY)


def test_pseudonym_is_a_valid_applicant_ref() -> None:
    ref = pseudonymize(CCCD, KEY)
    event = accepted(make("dossier.received", applicant_ref=ref))
    assert event.applicant_ref == ref
    assert CCCD.encode() not in event.to_json()
