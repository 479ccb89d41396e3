"""`review` (readiness checks against the user's endpoint) and `delivery` (Event Delivery
over what went through the inspector)."""

from __future__ import annotations

import argparse

from ..core.text import inert_json
from .common import EXIT_OK, load_history, query
from .settings import Settings


def review(args: argparse.Namespace, settings: Settings) -> int:
    from ..review.command import run

    return run(args, settings.data_dir, settings.json)


def delivery(args: argparse.Namespace, settings: Settings) -> int:
    from ..core.event_delivery import DEFAULT_WINDOW, summarize, text

    store = load_history(settings.data_dir)
    report = summarize(store, query(" ".join(args.query) or DEFAULT_WINDOW))
    print(inert_json(report.to_doc()) if settings.json else "\n".join(text(report)))
    return EXIT_OK
