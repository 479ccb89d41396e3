"""The Authorization header Segment sends: `Basic base64("<api key>:")`.

A partner endpoint finds its customer's API key in this header, so each way the header can
be malformed gets its own verdict and message instead of an unexplained 401.
"""

from __future__ import annotations

import base64
import binascii
import functools

from .checks import finding, shown
from .checks.request import CODES
from .model import Auth, Finding

PATH = "header:Authorization"
_EXPECTED = "Segment sends Basic base64('<api key>:')"


@functools.lru_cache(maxsize=256)
def decode_basic(header: str | None) -> Auth:
    """Read the API key the way a partner endpoint would, and say what is off if anything.

    Remembered (an Auth is immutable): Segment sends the same header with every event."""
    if header is None or not header.strip():
        return Auth("missing", f"no Authorization header: {_EXPECTED}")
    parts = header.strip().split(None, 1)
    scheme = parts[0]
    if scheme.lower() != "basic":
        if len(parts) == 1:
            return Auth("scheme", f"Authorization is only {shown(scheme)}, with no scheme: {_EXPECTED}")
        return Auth("scheme", f"Authorization uses the {shown(scheme, 20)} scheme, not Basic: {_EXPECTED}",
                    scheme=scheme)
    if len(parts) == 1:
        return Auth("base64", f"Authorization is Basic with no credentials after it: {_EXPECTED}",
                    scheme=scheme)
    credentials = parts[1].strip()
    try:
        raw = base64.b64decode(credentials, validate=True)
    except (binascii.Error, ValueError) as error:
        if "-" in credentials or "_" in credentials:
            reason = "URL-safe alphabet, - or _"
        elif not credentials.isascii():
            reason = "non-ASCII characters"
        else:
            reason = str(error).lower() or "invalid"
        return Auth("base64", f"Basic credentials {shown(credentials, 40)} are not valid base64 ({reason}): "
                    f"{_EXPECTED}", scheme=scheme)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return Auth("utf8", f"Basic credentials decode to bytes that are not UTF-8 ({raw[:24]!r}): "
                    f"{_EXPECTED}", scheme=scheme)
    if ":" not in text:
        return Auth("colon", f"decoded credentials {shown(text, 40)} have no colon: {_EXPECTED}, "
                    "colon included", scheme=scheme)
    key, password = text.split(":", 1)
    if not key:
        return Auth("empty-key", f"the API key before the colon is empty: {_EXPECTED}",
                    scheme=scheme, key=key, password=password)
    if password:
        return Auth("password", f"API key {shown(key, 40)} comes with a {len(password)}-character password; "
                    "Segment always sends an empty password", scheme=scheme, key=key, password=password)
    return Auth("ok", f"API key {shown(key, 40)}, sent the way Segment sends it",
                scheme=scheme, key=key, password=password)


def auth_findings(auth: Auth) -> list[Finding]:
    """The finding for a non-ok verdict; a verdict this version does not know gives none."""
    code = CODES.get(auth.verdict)
    return [finding(code, auth.message, PATH)] if code else []
