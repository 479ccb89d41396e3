"""`review` against small real endpoints: the correct one passes, each flaw is named by its check."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import socket
import sys
from pathlib import Path

import pytest

from inspector.cli import main
from inspector.core.history import History
from inspector.review import tester
from inspector.review.report import markdown, text
from inspector.review.runner import ReviewOptions, review
from inspector.review.tester import templates_of

from ..conftest import DATA
from .endpoints import KEY, serving

GOLDEN = Path(__file__).parent / "golden" / "report.md"
TEMPLATES = templates_of()


async def run_cli(*args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "inspector", "review", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(), 120)
    return process.returncode, out.decode(), err.decode()


def verdicts(report) -> dict[str, str]:
    return {check.id: check.verdict for check in report.checks}


async def test_a_correct_endpoint_passes_and_everything_sent_is_kept(tmp_path: Path, capsys) -> None:
    async with serving() as url:  # the tester's templates are sent without --templates: they ship with us
        code, out, err = await run_cli("--to", url, "--api-key", KEY,
                                       "--data-dir", str(tmp_path), "--json", "--report", str(tmp_path / "r.md"))
    assert code == 0, out + err
    doc = json.loads(out)
    checks = {check["id"]: check["verdict"] for check in doc["checks"]}
    assert checks.pop("https") == "warn"  # a local endpoint is http://
    assert set(checks.values()) == {"pass"} and len(checks) == 13
    scale = next(check for check in doc["checks"] if check["id"] == "scale")
    assert re.fullmatch(r"0 failures, \d+ successes at concurrency 10", scale["detail"])
    assert int(scale["detail"].split()[2]) >= 110 + 90  # the generated corpus and the tester's templates
    kept = History(tmp_path).load()
    assert len(kept) == doc["sent"] and doc["sent"] > 400
    assert all(kept.get(s.id).destination is not None for s in kept.search(None, 50))
    assert "# Segment destination readiness report" in (tmp_path / "r.md").read_text()
    assert main(["history", "kind:review", "--limit", "0", "--data-dir", str(tmp_path)]) == 0
    assert len(capsys.readouterr().out.splitlines()) == doc["sent"]
    failing = next(s.id for s in kept.search(None) if kept.get(s.id).destination.status >= 400)
    assert main(["show", failing, "--data-dir", str(tmp_path)]) == 0
    shown = capsys.readouterr().out
    assert f"from review {doc['review']}: " in shown and f"sent by review to {url}" in shown
    assert "forwarded" not in shown and "chosen by" not in shown


def test_the_testers_templates_ship_with_the_package_and_templates_replaces_them() -> None:
    lines = (DATA / "direct-integration-tester.sha256").read_text().splitlines()
    originals = {name: digest for digest, name in (line.split() for line in lines if not line.startswith("#"))}
    shipped = {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in tester.TEMPLATES.glob("*.log")}
    assert shipped == originals  # Segment's own, unchanged
    assert len(TEMPLATES) == len(originals)
    assert ReviewOptions("http://127.0.0.1:9/", KEY).templates == TEMPLATES
    assert "MIT" in (tester.TEMPLATES / "NOTICE.md").read_text()
    one = str(tester.TEMPLATES / "screen.log")
    assert ReviewOptions("http://127.0.0.1:9/", KEY, templates=templates_of([one])).templates == \
        (Path(one).read_text(),)


@pytest.mark.parametrize(("flaws", "failing", "said"), [
    (("no-key-check",), {"wrong-key", "missing-key"}, ("wrong-key", "200 to a wrong API key")),
    (("no-delete",), {"delete", "scale", "replay"}, ("delete", "partners must implement deletion")),
    (("html-500",), {"malformed", "answers"}, ("answers", "1 HTML error page (ANS008)")),
    (("html-errors",), {"answers"}, ("answers", "HTML error pages (ANS008)")),
    (("slow",), {"latency"}, ("latency", "over 4 s")),
    (("redirect",), {"calls", "delete", "wrong-key", "missing-key", "malformed", "unknown-type", "scale",
                     "replay", "casing", "answers"}, ("answers", "redirects (ANS010)")),
])
async def test_each_flaw_is_named_by_its_check(flaws: tuple[str, ...], failing: set[str],
                                               said: tuple[str, str]) -> None:
    async with serving(*flaws) as url:
        # A loaded machine may stretch the slow endpoint's 4.3 s past Segment's 5 s timeout: wait longer,
        # so that only the latency check judges it.
        report = await review(ReviewOptions(url, KEY, templates=TEMPLATES, seed=7, timeout=60))
    assert {check for check, verdict in verdicts(report).items() if verdict == "fail"} == failing
    assert report.exit_code == 1
    check_id, words = said
    assert words in next(check.detail for check in report.checks if check.id == check_id)
    for check in report.checks:
        if check.verdict == "fail":
            assert check.exchanges and all(e.destination is not None for e in check.exchanges)


async def test_an_endpoint_that_never_errs_leaves_the_answers_check_unexercised() -> None:
    async with serving("never-errors") as url:
        report = await review(ReviewOptions(url, KEY, templates=TEMPLATES, seed=7))
    answers = next(check for check in report.checks if check.id == "answers")
    assert (answers.verdict, answers.detail) == ("warn", "not exercised: the endpoint never answered an error")


async def test_an_answer_slower_than_the_timeout_is_late() -> None:
    async with serving("silent") as url:  # no answer to one event; the review waits 1 s
        report = await review(ReviewOptions(url, KEY, templates=TEMPLATES, seed=7, timeout=1))
    latency = next(check for check in report.checks if check.id == "latency")
    assert latency.verdict == "fail" and "with no answer within 1 s" in latency.detail
    assert latency.exchanges and all(e.destination.status is None for e in latency.exchanges)
    assert all(e.destination.error.startswith("no answer within") for e in latency.exchanges)
    # counted at the timeout, not left out: the table says how many
    assert report.timed_out == len(latency.exchanges) and report.latency.max >= 1.0
    assert f"({report.timed_out} timed out, each counted at the timeout)" in "\n".join(text(report))
    assert f"| {report.timed_out} |" in markdown(report)


async def test_an_endpoint_answering_204_passes_its_checks_and_the_report_says_204(tmp_path: Path) -> None:
    async with serving("no-content") as url:
        report = await review(ReviewOptions(url, KEY, templates=TEMPLATES, seed=7))
    findings = next(check for check in report.checks if check.id == "findings")
    assert findings.verdict == "warn" and "x ANS001" in findings.detail and "204" in findings.detail
    assert findings.exchanges and findings.exchanges[0].destination.status == 204
    assert "nothing else is off" in markdown(report) and "ANS001" in markdown(report)


async def test_an_unsupported_type_answered_501_passes_when_declared() -> None:
    async with serving() as url:
        report = await review(ReviewOptions(url, KEY, unsupported=frozenset({"alias"}), seed=2))
    assert verdicts(report)["calls"] == "pass"


async def test_exit_codes(tmp_path: Path) -> None:
    async with serving("no-delete") as url:
        code, out, err = await run_cli("--to", url, "--api-key", KEY, "--data-dir", str(tmp_path))
    assert code == 1, out + err
    assert "FAIL  delete answered 2xx" in out and "0 failed" not in out
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    code, out, err = await run_cli("--to", f"http://127.0.0.1:{port}/", "--api-key", KEY,
                                   "--data-dir", str(tmp_path))
    assert code == 3 and "cannot be reached" in err and "refused" in err
    code, out, err = await run_cli("--to", "ftp://x", "--api-key", KEY, "--data-dir", str(tmp_path))
    assert code == 2 and "--to" in err
    broken = tmp_path / "broken.log"
    broken.write_text('{"type": "track", "userId": "{{id}}"}\n{"type": \n')
    code, out, err = await run_cli("--to", "http://127.0.0.1:9/", "--api-key", KEY, "--templates", str(broken),
                                   "--data-dir", str(tmp_path))
    assert code == 2 and "--templates" in err and "broken.log" in err


def masked(report: str) -> str:
    """The report with what changes from run to run replaced: dates, times, ids, ports."""
    for pattern, mask in ((r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+)?Z?( UTC)?", "<time>"),
                          (r"127\.0\.0\.1:\d+", "127.0.0.1:<port>"), (r"\b[0-9A-Z]{26}\b", "<id>"),
                          (r"\d+(\.\d+)? (ms|s)\b", "<n> \\2"), (r"held \d+ events/s", "held <n> events/s"),
                          (r"Content-Type: text/html; charset=utf-8", "Content-Type: text/html")):
        report = re.sub(pattern, mask, report)
    return report


async def test_the_markdown_report_matches_its_golden_file() -> None:
    async with serving("no-delete", "html-500") as url:
        report = await review(ReviewOptions(url, KEY, seed=11))
    report.session = "01SESSION0000000000000000A"
    text = masked(markdown(report))
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.write_text(text)
    assert text == GOLDEN.read_text()


def _small_files() -> None:
    """No file may grow past 64 KB: the history's journal fills up as on a full disk."""
    import resource

    resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))


async def test_a_history_that_cannot_be_written_stops_the_review_with_one_sentence(tmp_path: Path) -> None:
    async with serving() as url:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "inspector", "review", "--to", url, "--api-key", KEY, "--data-dir", str(tmp_path),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, preexec_fn=_small_files)
        _out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 3, err.decode()
    assert "Traceback" not in err.decode() and err.decode().count("review stopped") == 1
    assert "cannot be kept in the history" in err.decode()


async def test_the_report_file_is_private(tmp_path: Path) -> None:
    async with serving() as url:
        code, out, err = await run_cli("--to", url, "--api-key", KEY, "--data-dir", str(tmp_path),
                                       "--report", str(tmp_path / "r.md"))
    assert code == 0, out + err
    assert (tmp_path / "r.md").stat().st_mode & 0o777 == 0o600
    assert not list(tmp_path.glob("*.tmp"))
