"""The tools that play Segment: send its traffic to the endpoint being written, and run the
partner review against it."""

from __future__ import annotations

import random
from typing import Annotated, Any

from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from ..cli.review import kept_review
from ..core import values
from ..core.generate import corpus, stream
from ..core.model import OUTCOME_TEXT, Event, segment_outcome
from ..delivery import Attempt, encode_settings
from ..replay import replay_exchanges
from ..review.runner import CALL_TYPES, ReviewOptions
from ..send import SendOptions, send
from .backends import Backend
from .reading import JsonEvent, events_of
from .results import refusals, reply

Url = Annotated[str, Field(description="the endpoint, e.g. http://127.0.0.1:3000/segment")]


def answer_doc(event: Any, attempts: list[Attempt]) -> dict[str, Any]:
    """One event sent: the endpoint's last answer and what Segment does after it."""
    view, last = Event.of(event), attempts[-1]
    destination, answer = last.destination, last.exchange.answer
    outcome = segment_outcome(destination.status)
    return {"type": view.type, "event": view.event, "messageId": view.message_id, "status": destination.status,
            "error": destination.error, "message": answer.message if answer is not None else None,
            "body": destination.body.decode("utf-8", "replace")[:500], "attempts": len(attempts),
            "outcome": outcome, "meaning": OUTCOME_TEXT[outcome], "codes": [f.code for f in last.findings]}


class Sending:
    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    @refusals
    async def send_events(
            self, to: Url,
            events: Annotated[JsonEvent | None, Field(description="the events to send: an object, an array, or "
                                                                  "JSON / JSON Lines text")] = None,
            query: Annotated[str | None, Field(description="send these kept requests again instead, as "
                                                           "`replay` does (the language of `history`)")] = None,
            api_key: Annotated[str | None, Field(description="the API key in Authorization: Basic (default "
                                                             "'segment'; a query's requests keep their own)")] = None,
            count: Annotated[int | None, Field(ge=1, le=1000, description="send N events, cycling with new "
                                                                           "messageIds")] = None,
            settings: Annotated[dict[str, Any] | None, Field(description="the destination's settings, sent as "
                                                                         "X-Segment-Settings")] = None,
            timeout: Annotated[float, Field(gt=0, le=60, description="seconds to wait for each answer, as "
                                                                     "Segment does")] = 5.0,
            seed: Annotated[int | None, Field(description="seed the generated events")] = None,
    ) -> str:
        """Send Segment's traffic to an endpoint, with Segment's headers, one POST an event: the
        events given, kept requests a query matches, or else a generated corpus of every call type
        and Spec event. Returns each answer with what Segment would do (delivered, retried,
        dropped) and the findings on the answer."""
        url = values.url(to)
        if events is not None and query is not None:
            raise ToolError("give events or a query, not both")
        if query is not None:
            return await self._replay(url, query, api_key, count, timeout)
        rng = random.Random(seed)
        given = corpus(rng) if events is None else [item for _, item in events_of(events)]
        if not given:
            raise ToolError("nothing to send: no events")
        answers: list[dict[str, Any]] = []
        options = SendOptions(url, api_key=api_key or "segment", timeout=timeout, seed=seed,
                              settings=encode_settings(settings) if settings else None)
        report = await send(stream(given, rng, count=count), options,
                            on_event=lambda event, attempts: answers.append(answer_doc(event, attempts)))
        return reply({"target": url, "sent": report.events, "delivered": report.delivered, "failed": report.failed,
                      "down": report.down, "answers": answers, "findings": report.findings})

    async def _replay(self, url: str, query: str, api_key: str | None, count: int | None, timeout: float) -> str:
        exchanges = await self.backend.matching(query, count or 0)
        if not exchanges:
            raise ToolError("no exchange matches: nothing sent")
        report = await replay_exchanges(exchanges, url, api_key=api_key, timeout=timeout)
        return reply({"target": url, "sent": len(report.results),
                      "answers": [result.to_doc() | {"meaning": result.meaning} for result in report.results],
                      "skipped": [{"id": id, "reason": why} for id, why in report.skipped],
                      "down": report.down, "unsent": report.unsent})

    @refusals
    async def review_endpoint(
            self, to: Url, api_key: Annotated[str, Field(description="an API key the endpoint accepts")],
            unsupported: Annotated[list[str] | None, Field(
                description=f"call types the destination does not support ({', '.join(CALL_TYPES)}): "
                            "a 501 to them passes")] = None,
    ) -> str:
        """Check the endpoint against everything Segment's partner review asks (auth, every call
        type, the tester's templates, answers, latency, retries), as `segment-inspector review
        --json` does; every request it sends is kept in the history. Returns each check's verdict
        (pass, warn, fail) with what failed."""
        unknown = sorted(set(unsupported or ()) - set(CALL_TYPES))
        if unknown:
            raise ToolError(f"unsupported: {unknown[0]!r} is not a call type; one of {', '.join(CALL_TYPES)}")
        options = ReviewOptions(values.url(to), api_key, frozenset(unsupported or ()))
        report = await kept_review(options, self.backend.data_dir)
        return reply(report.to_doc())
