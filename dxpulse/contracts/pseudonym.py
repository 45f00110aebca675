"""Pseudonyms for citizen identifiers: a keyed hash computed before data leaves the agency.

Example::

    import os
    from dxpulse.contracts import pseudonymize

    ref = pseudonymize("001204012345", os.environ["DXPULSE_AGENCY_KEY"])
    # 64 lowercase hex characters, suitable for applicant_ref

The key is the agency's secret (from the environment or a secret store, never from
code). The same raw id and key always give the same pseudonym, so an agency can
count returning applicants without anyone downstream learning who they are.
"""

from __future__ import annotations

import hashlib
import hmac

__all__ = ["MIN_KEY_BYTES", "pseudonymize"]

#: Shortest secret accepted: HMAC-SHA256 keys below 128 bits are too easy to guess.
MIN_KEY_BYTES = 16


def pseudonymize(raw_id: str, key: str | bytes) -> str:
    """HMAC-SHA256 of ``raw_id`` (stripped) with ``key``, as 64 lowercase hex characters."""
    secret = key.encode("utf-8") if isinstance(key, str) else bytes(key)
    if len(secret) < MIN_KEY_BYTES:
        raise ValueError(
            f"pseudonymisation key must be at least {MIN_KEY_BYTES} bytes; load the agency's "
            "secret from the environment or a secret store"
        )
    value = raw_id.strip()
    if not value:
        raise ValueError("raw_id is empty")
    return hmac.new(secret, value.encode("utf-8"), hashlib.sha256).hexdigest()
