"""Encryption of sealed bid content at rest (DESIGN.md section 6).

Bid prices, staffing plans, proposals, document names and document files are stored as
Fernet tokens (AES-128-CBC with HMAC-SHA256, from the ``cryptography`` package). The keys
come from the ``BID_ENCRYPTION_KEYS`` setting: a list of Fernet keys, the first one
encrypting, all of them decrypting (``MultiFernet``), so keys rotate without downtime:

1. generate a key: ``python -c "from cryptography.fernet import Fernet;
   print(Fernet.generate_key().decode())"``;
2. put it first in ``BID_ENCRYPTION_KEYS`` (keep the old ones after it) and restart;
3. run ``manage.py rotate_bid_keys`` to re-encrypt everything with the new key;
4. remove the old keys from the setting.

What this protects: database dumps, backups, the storage bucket and anyone reading the
tables directly never see a sealed value. Inside the application, access is decided by
``tenders.permissions`` and the selectors: only the bidding organization reads its bid
before the opening, and the opening (two officials) copies the content into plain columns.

Without the setting (a laptop, the tests), a key is derived from ``SECRET_KEY``; the deploy
check refuses that in production.
"""

from __future__ import annotations

import base64
import json
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder


class SealError(Exception):
    """A sealed value could not be decrypted (a missing key or tampered data)."""


def derived_key(secret: str) -> bytes:
    """A Fernet key derived from ``secret`` (development and tests only)."""
    raw = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=b"bid-sealing", info=b"marketplace"
    ).derive(secret.encode())
    return base64.urlsafe_b64encode(raw)


@lru_cache(maxsize=8)
def _fernet(keys: tuple[str, ...], secret: str) -> MultiFernet:
    chosen = [key.encode() for key in keys] or [derived_key(secret)]
    return MultiFernet([Fernet(key) for key in chosen])


def _current() -> MultiFernet:
    return _fernet(tuple(settings.BID_ENCRYPTION_KEYS), settings.SECRET_KEY)


def seal_bytes(data: bytes) -> bytes:
    return _current().encrypt(data)


def unseal_bytes(token: bytes) -> bytes:
    try:
        return _current().decrypt(token)
    except InvalidToken as exc:
        raise SealError("sealed data cannot be decrypted with the configured keys") from exc


def seal_json(value: Any) -> str:
    """Encrypt a JSON-serializable value; Decimals and dates become strings."""
    plain = json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False, sort_keys=True)
    return seal_bytes(plain.encode()).decode()


def unseal_json(token: str) -> Any:
    return json.loads(unseal_bytes(token.encode()))


def rotate(token: bytes) -> bytes:
    """Re-encrypt ``token`` with the first key (``manage.py rotate_bid_keys``)."""
    try:
        return _current().rotate(token)
    except InvalidToken as exc:
        raise SealError("sealed data cannot be decrypted with the configured keys") from exc
