"""Who the request says it is for: the API key in Authorization, and X-Segment-Settings.

A partner endpoint finds its customer by the API key, so this tab shows the key exactly
as it decodes, what is wrong with the header if anything, and the custom settings
Segment sends beside it, decoded.
"""

from __future__ import annotations

from textual.content import Content
from textual.highlight import highlight

from ....core.headers import decode_settings
from ....core.jsonview import pretty
from ....core.model import Exchange
from . import DescribedView, json_visible, visible

LABEL_WIDTH = 10


def _row(label: str, value: Content | str) -> Content:
    return Content.assemble((f"{label:<{LABEL_WIDTH}}", "bold"), value)


def _value(value: str | None) -> Content:
    if value is None:
        return Content("(none)").stylize("italic $text-muted")
    if value == "":
        return Content("(empty)").stylize("italic $text-muted")
    return Content(visible(value))


def describe(exchange: Exchange | None) -> Content:
    """The whole auth tab as one Content built from plain strings."""
    if exchange is None:
        return Content("No exchange selected.")
    lines: list[Content] = []
    auth = exchange.auth
    if auth is None:
        lines.append(_row("Verdict", Content("not decoded").stylize("italic $text-muted")))
    else:
        verdict = ("ok", "bold $text-success") if auth.ok else (visible(auth.verdict), "bold $text-error")
        lines.append(_row("Verdict", Content.assemble(verdict, "  ", visible(auth.message))))
        lines.append(_row("Scheme", _value(auth.scheme)))
        lines.append(_row("API key", _value(auth.key)))
        lines.append(_row("Password", _value(auth.password)))
    wrong = [f for f in exchange.findings if f.code.startswith("SIG")]
    if wrong or exchange.header("X-Signature") is not None:  # Webhooks: checked with --shared-secret
        signature = (("✗ ", "bold $text-error"), visible(wrong[0].message)) if wrong else (
            ("X-Signature sent; no signature finding", "$text-muted"),)
        lines.append(_row("Signature", Content.assemble(*signature)))
    lines.append(Content(""))

    lines.append(Content("X-Segment-Settings").stylize("bold"))
    header = exchange.header("X-Segment-Settings")
    if header is None:
        lines.append(Content("  not sent").stylize("italic $text-muted"))
    else:
        settings, error = decode_settings(header)
        if error is not None:
            lines.append(Content.assemble(("  ✗ ", "bold $text-error"),
                                          (visible(f"X-Segment-Settings {error}"), "$text-error")))
            lines.append(Content.assemble("  sent: ", visible(header)))
        else:
            text, _ = pretty(settings)
            lines.append(highlight(json_visible(text), language="json"))
    return Content("\n").join(lines)


class AuthView(DescribedView):
    """The API key, how it was sent, and the decoded X-Segment-Settings."""

    describe = staticmethod(describe)
