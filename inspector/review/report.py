"""A review's report: the terminal table, and the Markdown a partner attaches to the submission.

Request and answer bodies come from the endpoint and the corpus: shown with escapes made
visible (`inert`), the API key never written out.
"""

from __future__ import annotations

import time

from .. import __version__
from ..core.model import Exchange
from ..core.text import inert
from .runner import Check, ReviewReport

BODY_SHOWN = 1500  # characters of a body a report shows
MARK = {"pass": "PASS", "warn": "WARN", "fail": "FAIL"}


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.0f} ms"


def summary_line(report: ReviewReport) -> str:
    if report.down is not None:
        return f"{report.url} cannot be reached ({report.down}): nothing was reviewed"
    warnings = report.count("warn")
    return (f"{report.count('pass')} passed, {warnings} warning{'s' * (warnings != 1)}, {report.count('fail')} failed "
            f"({report.sent} requests in {report.seconds:.1f} s)")


def check_row(check: Check) -> str:
    return inert(f"{MARK[check.verdict]}  {check.title:<56} {check.detail}")


def text(report: ReviewReport) -> list[str]:
    """The terminal table: a row per check, then latency and the summary."""
    lines = [inert(f"review of {report.url}")]
    lines += [check_row(check) for check in report.checks]
    latency = report.latency
    if latency.count:
        lines.append(f"latency on the corpus: p50 {_ms(latency.percentile(50))}, p95 {_ms(latency.percentile(95))}, "
                     f"p99 {_ms(latency.percentile(99))}, max {_ms(latency.max if latency.count else None)}"
                     + _timed_out(report))
    failing = [e.id for check in report.checks if check.verdict != "pass" for e in check.exchanges[:1]]
    if failing:
        lines.append(f"open a failure: segment-inspector show {failing[0]}  (all kept in history session "
                     f"{report.session}: history kind:review)")
    lines.append(summary_line(report))
    return lines


def _cell(value: str) -> str:
    return inert(value).replace("|", "\\|")


def _fence(content: str) -> str:
    """A code fence longer than any run of backticks inside."""
    longest = max((len(run) for run in content.split("\n") for run in _runs(run)), default=0)
    return "`" * max(3, longest + 1)


def _runs(line: str) -> list[str]:
    runs, current = [], ""
    for char in line:
        if char == "`":
            current += char
        elif current:
            runs.append(current)
            current = ""
    return runs + ([current] if current else [])


def _body(body: bytes) -> str:
    shown = "\n".join(inert(line) for line in body.decode("utf-8", "replace").split("\n"))
    if len(shown) > BODY_SHOWN:
        shown = shown[:BODY_SHOWN] + f"… ({len(body)} bytes)"
    return shown


def _block(lines: list[str]) -> list[str]:
    content = "\n".join(lines)
    fence = _fence(content)
    return [fence + "http", content, fence]


def exchange_markdown(exchange: Exchange) -> list[str]:
    """What was sent and what came back, as HTTP."""
    sent = [f"POST {inert(exchange.path)}"]
    for name, value in exchange.headers:
        if name.lower() == "authorization":
            value = "Basic (not shown)"
        sent.append(inert(f"{name}: {value}"))
    sent += ["", _body(exchange.body)]
    destination = exchange.destination
    answer: list[str]
    if destination is None or destination.status is None:
        answer = [f"no answer: {inert(destination.error or '' if destination else 'not sent')}"]
    else:
        answer = [f"HTTP {destination.status}"] + [inert(f"{n}: {v}") for n, v in destination.headers
                                                   if n.lower() in ("content-type", "location", "retry-after")]
        answer += ["", _body(destination.body)]
    took = f" after {_ms(destination.duration)}" if destination is not None else ""
    peer = _cell(exchange.peer.partition(": ")[2] or exchange.peer)
    return [f"Request `{exchange.id}` ({peer}):", "", *_block(sent), "",
            f"Answer{took}:", "", *_block(answer), ""]


def _timed_out(report: ReviewReport) -> str:
    if not report.timed_out:
        return ""
    return f" ({report.timed_out} timed out, each counted at the timeout)"


def markdown(report: ReviewReport) -> str:
    """The report a partner attaches to the submission: endpoint, date, checks, latency, failures."""
    when = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(report.started))
    lines = ["# Segment destination readiness report", "",
             f"- Endpoint: `{_cell(report.url)}`",
             f"- Date: {when}",
             f"- Tool: segment-inspector {__version__} `review`",
             f"- Result: {summary_line(report)}", ""]
    lines += ["## Checks", "", "| Check | Verdict | What happened |", "|---|---|---|"]
    lines += [f"| [{_cell(c.title)}]({c.link}) | {MARK[c.verdict]} | {_cell(c.detail)} |" for c in report.checks]
    lines += ["", "## Latency", "", "Answer times of the corpus (generated events and Segment's tester templates).",
              "", "| p50 | p95 | p99 | max | timed out |", "|---|---|---|---|---|"]
    latency = report.latency
    lines += [f"| {_ms(latency.percentile(50))} | {_ms(latency.percentile(95))} | {_ms(latency.percentile(99))} "
              f"| {_ms(latency.max if latency.count else None)} | {report.timed_out} |", ""]
    if report.timed_out:
        lines += [f"{report.timed_out} request{'s' * (report.timed_out != 1)} got no answer within the timeout: "
                  "each counts at the timeout.", ""]
    flagged = [check for check in report.checks if check.verdict != "pass"]
    lines += ["## Failures and warnings", ""]
    if not flagged:
        lines += ["None.", ""]
    for check in flagged:
        lines += [f"### {MARK[check.verdict]}: {_cell(check.title)}", "",
                  f"{_cell(check.detail)}", "",
                  f"Why it matters: {_cell(check.why)} ({check.link})", ""]
        for exchange in check.exchanges:
            lines += exchange_markdown(exchange)
    lines += ["---", "", f"Every request is kept in the inspector's history (session `{report.session}`; "
              "`segment-inspector history kind:review` lists them): `segment-inspector show ID` opens one.", ""]
    return "\n".join(lines)
