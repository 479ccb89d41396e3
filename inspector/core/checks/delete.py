"""Deletions: the one call partners must act on, and cannot turn away."""

from __future__ import annotations

from . import Lint, check, event_check
from .spec import LINKS

check("SPEC050", "info", "A delete: the destination must erase this user's data",
      bad='{"type": "delete", "userId": "u1", "messageId": "m1"}',
      good='{"type": "identify", "userId": "u1", "messageId": "m1"}', link=LINKS["delete"])


@event_check
def delete(lint: Lint) -> None:
    if lint.event.get("type") == "delete" and lint.event.get("userId"):
        lint.add("SPEC050", "Segment forwards deletion requests: delete everything kept for this "
                 "userId (GDPR/CCPA), then answer 2xx; partners must support delete, so a 501 "
                 "here fails review", "$.userId")
