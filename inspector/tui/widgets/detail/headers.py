"""The request headers as they arrived, each with what is off about it.

Segment always sends the same few headers, so a difference says who really sent the
request; the findings sit beside the header they are about, and the headers that
should have been there and were not are listed after the ones that were.
"""

from __future__ import annotations

from textual.content import Content

from ....core.headers import check_headers
from ....core.model import Exchange, Finding
from . import SEVERITY_STYLE, DescribedView, visible

HEADER_PATH = "header:"


def header_findings(exchange: Exchange) -> list[Finding]:
    """The findings about headers, checking them here when intake did not (the body was not JSON)."""
    found = [f for f in exchange.findings if f.path.startswith(HEADER_PATH)]
    checked = exchange.method == "POST" and not exchange.truncated and exchange.body_error is None
    if not checked:
        seen = {(f.code, f.path) for f in found}
        found += [f for f in check_headers(exchange.headers, exchange.body_size)
                  if (f.code, f.path) not in seen]
    return found


def _finding_line(finding: Finding, indent: str = "    ") -> Content:
    return Content.assemble(
        indent,
        (finding.severity, SEVERITY_STYLE.get(finding.severity, "bold")),
        "  ",
        (visible(finding.code), "bold"),
        "  ",
        visible(finding.message),
    )


def describe(exchange: Exchange | None) -> Content:
    """The whole headers tab as one Content built from plain strings."""
    if exchange is None:
        return Content("No exchange selected.")
    findings = header_findings(exchange)
    by_name: dict[str, list[Finding]] = {}
    for finding in findings:
        by_name.setdefault(finding.path[len(HEADER_PATH):].strip().lower(), []).append(finding)

    lines: list[Content] = []
    if not findings:
        lines.append(Content.assemble(("Sent by Segment: ", "bold $text-success"),
                                      "every header is as Segment sends it to a partner endpoint."))
    else:
        count = len(findings)
        lines.append(Content.assemble(
            ("Not Segment's headers: ", "bold $text-warning"),
            f"{count} difference{'s' if count != 1 else ''} from the headers Segment sends."))
    if findings and not (exchange.method == "POST" and not exchange.truncated
                         and exchange.body_error is None):
        lines.append(Content("Checked here: the request was not checked on arrival because its body "
                             "could not be read as JSON.").stylize("italic $text-muted"))
    lines.append(Content(""))

    if not exchange.headers:
        lines.append(Content("No headers.").stylize("italic"))
    for name, value in exchange.headers:
        lines.append(Content.assemble((visible(name), "bold"), ": ", visible(value)))
        for finding in by_name.pop(name.strip().lower(), []):
            lines.append(_finding_line(finding))

    if by_name:
        lines.append(Content(""))
        lines.append(Content("Missing").stylize("bold underline"))
        for missing in by_name.values():
            lines.append(Content.assemble("  ", (visible(missing[0].path[len(HEADER_PATH):]), "bold")))
            lines.extend(_finding_line(finding) for finding in missing)
    return Content("\n").join(lines)


class HeadersView(DescribedView):
    """Each header in arrival order with its findings, then the headers that are missing."""

    describe = staticmethod(describe)
