"""The codes of the request itself, before its events: method, size, body, headers, auth.

`core.auth`, `core.headers` and `core.intake` raise them; they are declared here so the
registry holds every code whatever is imported.
"""

from __future__ import annotations

from . import check

check("REQ001", "error", "The method is not POST: Segment only POSTs",
      bad="GET / HTTP/1.1", good="POST / HTTP/1.1")
check("REQ002", "error", "The body is over the size limit (--max-body)",
      bad="a 20 MiB body", good="a body under the limit (Segment caps events at 32 KB)")
check("REQ003", "error", "The body is not a JSON payload: empty, malformed or not UTF-8",
      bad='{"type": "track",}', good='{"type": "track", "event": "Signed Up"}')
TOO_MANY_EVENTS = check("REQ004", "error", "More events in one request than the inspector reads (10,000)",
                        bad="a batch of 70,000 events", good="a batch of 100 events").code
check("INSP001", "error", "The inspector failed while choosing the answer (a bug of ours)",
      bad="(an exception inside segment-inspector)", good="(no exception)")

SEGMENT_USER_AGENT = "Segment.io/1.0"
SETTINGS_EXAMPLE = "eyJjdXN0b21TZXR0aW5nT25lIjoiY3VzdG9tIHNldHRpbmcgdmFsdWUifQ=="

_GOOD_LENGTH = "Content-Length: 348 (for a 348-byte body)"

check("HDR001", "info", "Accept header missing",
     bad="(no Accept header)", good="Accept: */*")
check("HDR002", "info", "Cache-Control is not no-cache",
     bad="Cache-Control: max-age=0", good="Cache-Control: no-cache")
check("HDR003", "info", "Connection: close, where Segment keeps connections alive",
     bad="Connection: close", good="Connection: Keep-Alive")
check("HDR004", "warning", "Content-Length missing, e.g. a chunked body",
     bad="Transfer-Encoding: chunked", good=_GOOD_LENGTH)
check("HDR005", "error", "Content-Length is not a byte count or differs from the body received",
     bad="Content-Length: 400 (for a 348-byte body)", good=_GOOD_LENGTH)
check("HDR006", "warning", "Content-Type is missing or not JSON",
     bad="Content-Type: text/plain", good="Content-Type: application/json")
check("HDR007", "info", "User-Agent of another Segment sender, not of partner deliveries",
     bad="User-Agent: Segment (Actions)", good=f"User-Agent: {SEGMENT_USER_AGENT}")
check("HDR008", "info", "User-Agent missing or not Segment's: not sent by Segment",
     bad="User-Agent: curl/8.0", good=f"User-Agent: {SEGMENT_USER_AGENT}")
check("HDR009", "error", "Content-Length sent more than once",
     bad="Content-Length: 348 (twice)", good="Content-Length: 348 (once)")
check("HDR010", "warning", "Content-Type, Authorization or X-Segment-Settings sent more than once",
     bad="Content-Type: application/json (twice)", good="Content-Type: application/json (once)")
check("HDR011", "warning", "X-Segment-Settings is not base64 of a JSON object",
     bad='X-Segment-Settings: {"customSettingOne":"value"}', good=f"X-Segment-Settings: {SETTINGS_EXAMPLE}")

_GOOD = "Authorization: Basic c2VnbWVudDo="

CODES: dict[str, str] = {
    "missing": check("AUTH001", "error", "Authorization header missing or empty",
                    bad="(no Authorization header)", good=_GOOD).code,
    "scheme": check("AUTH002", "error", "Authorization uses a scheme other than Basic",
                   bad="Authorization: Bearer c2VnbWVudDo=", good=_GOOD).code,
    "base64": check("AUTH003", "error", "Basic credentials are not valid base64",
                   bad="Authorization: Basic c2VnbWVudDo", good=_GOOD).code,
    "utf8": check("AUTH004", "error", "Basic credentials do not decode to UTF-8 text",
                 bad="Authorization: Basic //79", good=_GOOD).code,
    "colon": check("AUTH005", "error", "Decoded credentials have no colon after the key",
                  bad="Authorization: Basic c2VnbWVudA==", good=_GOOD).code,
    "password": check("AUTH006", "warning", "A password follows the key; Segment sends none",
                     bad="Authorization: Basic c2VnbWVudDpzZWNyZXQ=", good=_GOOD).code,
    "empty-key": check("AUTH007", "error", "Nothing before the colon: the API key is empty",
                      bad="Authorization: Basic Og==", good=_GOOD).code,
}
UNKNOWN_KEY = check("AUTH008", "error", "The API key is not one the inspector accepts (--api-key)",
                    bad="Authorization: Basic d3Jvbmc6 (wrong:)", good="Authorization: Basic "
                    "cmlnaHQ6 (right:, with --api-key right)").code

# Segment's Tracking API (`/v1/...`) and the Webhooks destination's signature.
TRACKING_REFUSED = check("TRK001", "error", "The Tracking API refuses the call: not JSON, or over Segment's limits",
                bad='POST /v1/batch {"batch": "not an array"}',
                good='POST /v1/batch {"batch": [{"type": "track", "event": "Signed Up", "userId": "u1"}]}').code
UNKNOWN_WRITE_KEY = check("TRK002", "error", "The write key is not one the inspector accepts (--write-key)",
                          bad="Authorization: Basic d3Jvbmc6 (wrong:)",
                          good="Authorization: Basic cmlnaHQ6 (right:, with --write-key right)").code
QUEUE_FULL = check("TRK003", "warning", "Local Segment's delivery queue is full: answered 429 with Retry-After",
                   bad="100 batches of 2,500 events at once", good="batches sent as the queue drains").code
SIGNATURE_MISSING = check("SIG001", "error", "X-Signature is missing, though a shared secret is set (--shared-secret)",
                bad="(no X-Signature header)", good="X-Signature: 5f2b0e... (hex HMAC-SHA1 of the body)").code
SIGNATURE_WRONG = check("SIG002", "error", "X-Signature is not the HMAC-SHA1 of the body with the shared secret",
              bad="X-Signature: 0000 (not the body's HMAC)",
              good="X-Signature: hex HMAC-SHA1(shared secret, body; for an array, JSON.stringify(body[0]))").code
