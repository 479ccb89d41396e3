"""`review`: Segment's partner-review requirements checked against the user's endpoint.

It sends through `inspector.delivery` (aiohttp), so it lives beside the core, not in it.
"""

from .runner import Check, Review, ReviewOptions, ReviewReport, review, templates_of

__all__ = ["Check", "Review", "ReviewOptions", "ReviewReport", "review", "templates_of"]
