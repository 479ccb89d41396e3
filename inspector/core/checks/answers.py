"""Judging the user's endpoint by Segment's response contract (partners/direct-destination.md).

When a request is forwarded, the endpoint's answer is checked the way Segment reads it:
the status (one Segment documents, fitting the event: 501 for an unsupported call type,
401/403 for key problems, 400 for malformed bodies, and deletion never refused), the
error body (JSON with a `message`, which Segment shows its users), the time (Segment
gives up after about 4 to 5 s) and what Segment does next. `judge` is pure: the
forwarding itself lives in the receiver.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..model import OUTCOME_TEXT, Destination, Exchange, Finding, message_of
from . import check, finding
from .spec import LINKS

# The statuses partners/direct-destination.md lists, with 429 from partners/faqs.md.
DOCUMENTED = frozenset({200, 202, 400, 401, 403, 429, 500, 501, 503})
SLOW = 2.0
SEGMENT_TIMEOUT = 4.0  # "about 4 seconds" (Centrifuge); the Webhooks docs say 5
_FAQS = "https://segment.com/docs/partners/faqs/"  # retries, timeouts, dedupe by messageId


@dataclass(frozen=True, slots=True)
class Limits:
    """How long an answer may take: a warning past `slow`, an error past `timeout` (seconds)."""

    slow: float = SLOW
    timeout: float = SEGMENT_TIMEOUT


check("ANS001", "warning", "The endpoint answered a status Segment does not document for partners",
      bad="204 No Content, 404 Not Found, 422 Unprocessable Entity",
      good="200, 202, 400, 401, 403, 429, 500, 501 or 503")
check("ANS002", "error", "The endpoint refused a delete with 501: partners must implement deletion",
      bad="501 to a delete", good="200 to a delete, once the user's data is erased", link=LINKS["delete"])
check("ANS003", "info", "The endpoint accepted a delete: Segment counts the user's data as erased",
      bad="200 to a delete while deletion is not implemented",
      good="200 to a delete after erasing everything kept for the userId", link=LINKS["delete"])
check("ANS004", "warning", "The endpoint accepted a request Segment would never send (bad body or key)",
      bad="200 to a body that is not JSON, or to a request without Authorization",
      good="400 to a malformed body, 401 to a missing or malformed key")
check("ANS005", "warning", "The error status does not fit the problem: 400 for malformed, 401/403 for keys",
      bad="500 to malformed JSON (Segment retries it for 4 hours); 400 to a missing key",
      good="400 to malformed JSON; 401 to a missing or malformed key")
check("ANS006", "warning", "An error answer that is not Content-Type: application/json",
      bad="500 with Content-Type: text/plain and body `oops`",
      good='500 with Content-Type: application/json and {"message": "database unavailable"}')
check("ANS007", "warning", "An error answer without a JSON `message`, which Segment shows its users",
      bad='400 with {"error": "bad"}', good='400 with {"message": "Missing email address"}')
check("ANS008", "warning", "An HTML error page: a framework's or proxy's page, not the endpoint's answer",
      bad="500 with Content-Type: text/html and <html>…Internal Server Error…",
      good='500 with Content-Type: application/json and {"message": "..."}')
check("ANS009", "warning", "An error answer with an empty body: Segment has no message to show",
      bad="503 with an empty body", good='503 with {"message": "down for maintenance"}')
check("ANS010", "error", "A redirect: Segment does not follow redirects, so the event is not delivered",
      bad="302 Found, Location: https://example.com/v2/segment",
      good="200 from the URL configured in Segment")
check("ANS011", "warning", "The endpoint took more than 2 s to answer",
      bad="an answer after 2.5 s", good="an answer within a few hundred ms")
check("ANS012", "error", "The endpoint took longer than Segment waits (about 4 to 5 s): Segment retries",
      bad="an answer after 6 s", good="an answer within 2 s; slow work done after answering", link=_FAQS)
check("ANS013", "error", "The endpoint did not answer: down, refused, timed out or reset",
      bad="connection refused", good="any HTTP answer", link=_FAQS)
check("ANS014", "info", "What Segment does with the endpoint's answer: delivered, retried or dropped",
      bad="500: Segment retries for up to 4 hours", good="200: Segment counts the event as delivered", link=_FAQS)
check("ANS015", "warning", "The endpoint answered a redelivery (same messageId) differently",
      bad="200 to the first delivery, then 500 to the redelivery",
      good="the same answer both times (dedupe by messageId)", link=_FAQS)


def _is_html(content_type: str, body: bytes) -> bool:
    if "html" in content_type:
        return True
    head = body.lstrip()[:15].lower()
    return head.startswith((b"<!doctype html", b"<html"))


def _time_findings(destination: Destination, limits: Limits) -> list[Finding]:
    seconds = destination.duration
    if seconds > limits.timeout:
        return [finding("ANS012", f"answered after {seconds:.2f} s: Segment stops waiting after about "
                        f"{limits.timeout:g} s and retries the event, even though you processed it")]
    if seconds > limits.slow:
        return [finding("ANS011", f"answered after {seconds:.2f} s, over {limits.slow:g} s: close to "
                        "Segment's timeout; answer first, work later")]
    return []


def _fit_findings(exchange: Exchange, status: int) -> list[Finding]:
    """Does the status fit the request: deletes, malformed bodies, key problems."""
    found: list[Finding] = []
    types = {event.type for event in exchange.events}
    if "delete" in types:
        if status == 501:
            found.append(finding("ANS002", "501 to a delete: partners must support deletion "
                                 "(GDPR/CCPA); this fails Segment's review"))
        elif 200 <= status < 300:
            found.append(finding("ANS003", f"{status} to a delete: Segment now counts this user's data "
                                 "as erased; answer 2xx only once deletion is implemented"))
    bad_body = exchange.body_error is not None
    bad_key = exchange.auth is None or not exchange.auth.ok
    if 200 <= status < 300 and (bad_body or bad_key):
        what = "a body that is not a JSON event" if bad_body else "a missing or malformed API key"
        found.append(finding("ANS004", f"{status} to {what}: Segment never sends one, but the "
                             "endpoint should refuse it (400, or 401 for the key)"))
    elif status >= 400 and status not in (401, 403, 429) and bad_key:
        found.append(finding("ANS005", f"{status} to a missing or malformed API key: answer 401 "
                             "(or 403 for a valid key without permission), which Segment does not retry"))
    elif status >= 400 and status not in (400, 429) and bad_body and not bad_key:
        found.append(finding("ANS005", f"{status} to a malformed body: answer 400"
                             + (", which Segment does not retry" if status >= 500 and status != 501 else "")))
    return found


def _body_findings(destination: Destination, status: int) -> list[Finding]:
    """An error answer should be JSON with a `message`; Segment shows it to its users."""
    if status < 400:
        return []
    content_type = (destination.header("Content-Type") or "").lower()
    body = destination.body
    if not body.strip():
        return [finding("ANS009", f"{status} with an empty body: Segment shows its users no reason; "
                        'send {"message": "..."} as application/json')]
    if _is_html(content_type, body):
        return [finding("ANS008", f"{status} with an HTML page: the endpoint's own error handling did "
                        "not run (a framework's or proxy's page); Segment shows no message")]
    found = []
    if not content_type.startswith("application/json"):
        shown = content_type or "none"
        found.append(finding("ANS006", f"{status} with Content-Type {shown}: Segment reads the "
                             "message only from application/json", "header:Content-Type"))
    if message_of(body) is None:
        found.append(finding("ANS007", f'{status} without a JSON "message": Segment shows its users '
                             'no reason; send {"message": "..."}'))
    return found


def judge(exchange: Exchange, destination: Destination, limits: Limits = Limits()) -> list[Finding]:
    """The findings on the endpoint's answer to this exchange, judged by Segment's contract."""
    status = destination.status
    if status is None:
        return [finding("ANS013", f"no answer from {destination.url}: {destination.error or 'unknown error'}; "
                        "Segment would retry the event for up to 4 hours"),
                finding("ANS014", f"no answer: {OUTCOME_TEXT['retried']}")]
    found: list[Finding] = []
    if 300 <= status < 400:
        location = destination.header("Location")
        target = f" to {location}" if location else ""
        found.append(finding("ANS010", f"{status} redirect{target}: Segment does not follow it and "
                             "drops the event; configure the final URL in Segment"))
    elif status not in DOCUMENTED:
        found.append(finding("ANS001", f"{status} is not a status Segment documents for partners; "
                             f"Segment reads it as {destination.outcome}"))
    found += _fit_findings(exchange, status)
    found += _body_findings(destination, status)
    found += _time_findings(destination, limits)
    found.append(finding("ANS014", f"{status}: {OUTCOME_TEXT[destination.outcome]}"))
    return found


def redelivery_finding(first_id: str, first: Destination, again: Destination) -> Finding | None:
    """ANS015 when the endpoint answered a redelivery otherwise than the first delivery."""
    def said(destination: Destination) -> str:
        return str(destination.status) if destination.status is not None else "no answer"

    if first.status == again.status:
        return None
    return finding("ANS015", f"the endpoint answered the redelivery differently: {said(first)} to the "
                   f"first delivery ({first_id}), then {said(again)}; dedupe by messageId so a "
                   "redelivery gets the first answer")
