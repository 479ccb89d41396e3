"""Event names that nearly match a semantic event.

Destinations map Spec names (`Order Completed`) to their own; a name that differs in
case or separators, in word order, from v1 of the Spec or from another vendor's
vocabulary (`Purchase`, `fb_mobile_purchase`) reaches them unrecognised. Segment's
partner review rejects a destination that asks customers for such names; an event
merely *named* so is still processed, so each is a warning.
"""

from __future__ import annotations

from . import Lint, check, event_check, shown
from .spec import EVENTS, NEAR, VENDOR, normal

_BASE = '{"type": "track", "userId": "u1", "messageId": "m1", '

check("SPEC040", "warning", "The event name is a Spec event written in another case or with other separators",
      bad=_BASE + '"event": "order_completed"}', good=_BASE + '"event": "Order Completed"}',
      link="https://segment.com/docs/connections/spec/semantic/")
check("SPEC041", "warning", "The event name is a Spec event in v1 naming or the other word order",
      bad=_BASE + '"event": "Completed Order"}', good=_BASE + '"event": "Order Completed"}',
      link="https://segment.com/docs/connections/spec/ecommerce/v2/")
check("SPEC042", "warning", "The event name is another vendor's name for a Spec event",
      bad=_BASE + '"event": "Purchase"}', good=_BASE + '"event": "Order Completed"}',
      link="https://segment.com/docs/connections/spec/semantic/")

_CODES = {"case": "SPEC040", "order": "SPEC041", "v1": "SPEC041", "vendor": "SPEC042"}
_WHY = {
    "case": "differs from the Spec event only in case or separators",
    "order": "has the words in the order of v1 of the Spec",
    "v1": "is the v1 name",
    "vendor": "is another vendor's name",
}


@event_check
def names(lint: Lint) -> None:
    name = lint.event.get("event")
    if lint.event.get("type") != "track" or not isinstance(name, str) or name in EVENTS:
        return
    if name in VENDOR:
        target, how = VENDOR[name], "vendor"
    else:
        near = NEAR.get(normal(name))
        if near is None:
            return
        target, how = near
    spec = EVENTS[target]
    lint.add(_CODES[how], f"event {shown(name)} {_WHY[how]}: use {target!r} ({spec.title} spec) so "
             "destinations recognise it", "$.event")
