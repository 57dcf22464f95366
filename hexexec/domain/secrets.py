"""Recognising secrets, for every place that writes something down (logs, the event log table).

A field is secret when its name's words (split on ``_``, ``-``, ``.`` and case changes) name one:
``api_key``, ``API-SIGN``, ``apiSecret``, ``password``, ``Authorization``, ``sign``, ``token``…
A credential inside a URL (``scheme://user:password@host``, ``?password=``) is masked in any text.
"""

from __future__ import annotations

import re

MASK = "[redacted]"

_SECRET_WORDS = frozenset({
    "secret", "password", "passwd", "pwd", "authorization", "auth", "sign", "signature",
    "token", "credential", "credentials", "cookie", "apikey", "passphrase",
})
_KEY_QUALIFIERS = frozenset({"api", "private", "access", "secret"})  # api_key, private_key …
_WORD = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")
_URL_CREDENTIALS = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<user>[^:@/\s]*):[^@/\s]*@")
_QUERY_PASSWORD = re.compile(r"(?P<key>[?&](?:password|passwd|sslpassword)=)[^&\s]*", re.IGNORECASE)


def is_secret_key(key: object) -> bool:
    """Whether a field named ``key`` holds a secret."""
    if not isinstance(key, str):
        return False
    words = {w.lower() for w in _WORD.findall(key)}
    if words & _SECRET_WORDS:
        return True
    return "key" in words and bool(words & _KEY_QUALIFIERS)


def mask_credentials(text: str) -> str:
    """``text`` with passwords inside URLs masked."""
    text = _URL_CREDENTIALS.sub(rf"\g<scheme>\g<user>:{MASK}@", text)
    return _QUERY_PASSWORD.sub(rf"\g<key>{MASK}", text)
