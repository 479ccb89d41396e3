"""The codes of a tracking plan's violations (`core.plans` finds them), registered with the rest.

Each example is an event checked against the example plan of docs/plans.md: `Order Completed`
(version 1) with `order_id` a required string, `revenue` a number, `currency` one of
`USD|EUR`; version 2 of it adds nothing here but exists; `additionalProperties` is false
only under `--no-unplanned-properties`.
"""

from __future__ import annotations

from . import check

CREATE = "https://segment.com/docs/protocols/tracking-plan/create/"
ENFORCE = "https://segment.com/docs/protocols/enforce/schema-configuration/"

UNPLANNED_EVENT = "PLAN001"
MISSING = "PLAN002"
WRONG_TYPE = "PLAN003"
NOT_ALLOWED = "PLAN004"
UNPLANNED_PROPERTY = "PLAN005"
FORBIDDEN_PROPERTY = "PLAN006"
NO_VERSION = "PLAN007"

_GOOD = ('{"type": "track", "event": "Order Completed", "userId": "u1", "messageId": "m1", '
         '"properties": {"order_id": "o1", "revenue": 9.5, "currency": "USD"}}')

check(UNPLANNED_EVENT, "error", "The event is not in the tracking plan",
      bad='{"type": "track", "event": "order completed", "userId": "u1", "messageId": "m1", '
          '"properties": {"order_id": "o1"}}',
      good=_GOOD, link=CREATE)
check(MISSING, "error", "A property the plan requires is missing",
      bad='{"type": "track", "event": "Order Completed", "userId": "u1", "messageId": "m1", '
          '"properties": {"revenue": 9.5}}',
      good=_GOOD, link=CREATE)
check(WRONG_TYPE, "error", "A property has another type than the plan's",
      bad='{"type": "track", "event": "Order Completed", "userId": "u1", "messageId": "m1", '
          '"properties": {"order_id": "o1", "revenue": "9.50"}}',
      good=_GOOD, link=CREATE)
check(NOT_ALLOWED, "error", "A value the plan does not permit (values, pattern, format, range)",
      bad='{"type": "track", "event": "Order Completed", "userId": "u1", "messageId": "m1", '
          '"properties": {"order_id": "o1", "currency": "usd"}}',
      good=_GOOD, link=CREATE)
check(UNPLANNED_PROPERTY, "warning", "A property or trait the plan does not list",
      bad='{"type": "track", "event": "Order Completed", "userId": "u1", "messageId": "m1", '
          '"properties": {"order_id": "o1", "coupon": "X"}}',
      good=_GOOD, link=ENFORCE)
check(FORBIDDEN_PROPERTY, "error", "A property the plan does not allow (unplanned properties not allowed)",
      bad='{"type": "track", "event": "Order Completed", "userId": "u1", "messageId": "m1", '
          '"properties": {"order_id": "o1", "coupon": "X"}}',
      good=_GOOD, link=ENFORCE)
check(NO_VERSION, "error", "The event's version has no rule in the plan",
      bad='{"type": "track", "event": "Order Completed", "userId": "u1", "messageId": "m1", '
          '"properties": {"order_id": "o1"}, "context": {"protocols": {"event_version": 7}}}',
      good=_GOOD, link=CREATE)
