"""docs/checks.md documents every registered code with its severity, the reason for it, and its link."""

import importlib
import pkgutil
import re
from urllib.parse import urlsplit

import pytest

import inspector.core.auth  # registers AUTH codes
import inspector.core.checks as checks
import inspector.core.headers  # registers HDR codes
import inspector.core.intake  # registers REQ codes
import inspector.receiver  # noqa: F401  (registers INSP codes)
from inspector.core.checks import CHECKS, check, finding, url_for

from ..conftest import DATA, ROOT

DOC = ROOT / "docs" / "checks.md"
CITED = {line for line in (DATA / "segment-docs-pages.txt").read_text(encoding="utf-8").splitlines()
         if line and not line.startswith("#")}

for module in pkgutil.iter_modules(checks.__path__, checks.__name__ + "."):
    importlib.import_module(module.name)


def doc_rows() -> dict[str, list[str]]:
    """Table rows of docs/checks.md by code: the first cell, without backticks."""
    rows = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        if line.startswith("|"):
            cells = [cell.strip().strip("`") for cell in line.strip().strip("|").split("|")]
            rows[cells[0]] = cells
    return rows


def test_request_codes_are_registered():
    codes = set(CHECKS)
    assert {f"AUTH00{n}" for n in range(1, 8)} <= codes
    assert {f"HDR{n:03}" for n in range(1, 12)} <= codes


@pytest.mark.parametrize("code", sorted(CHECKS))
def test_every_code_is_documented(code):
    rows = doc_rows()
    assert code in rows, f"{code} is registered but has no row in docs/checks.md"
    assert rows[code][1] == CHECKS[code].severity, f"{code}: docs/checks.md gives another severity"
    assert len(rows[code][2]) > 20, f"{code}: docs/checks.md gives no reason for its severity"
    assert rows[code][6] == url_for(code), f"{code}: docs/checks.md links another page"


@pytest.mark.parametrize("code", sorted(CHECKS))
def test_every_code_links_a_page_of_segments_docs(code):
    url = url_for(code)
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc) == ("https", "segment.com"), url
    assert parts.path.startswith("/docs/") and parts.path.endswith("/"), url
    assert not (parts.query or parts.fragment) and url.isascii() and " " not in url, url
    page = parts.path.removeprefix("/docs/").rstrip("/")
    assert page in CITED, f"{url}: a page the reference notes do not cite (tests/data/segment-docs-pages.txt)"


def test_an_unknown_code_has_no_link():
    assert url_for("NOPE999") == ""


def test_documented_request_codes_exist():
    documented = {code for code in doc_rows() if re.fullmatch(r"(AUTH|HDR)\d{3}", code)}
    assert documented - set(CHECKS) == set()


def test_every_rule_has_examples():
    for code, registered in CHECKS.items():
        assert registered.title and registered.doc_bad and registered.doc_good, code
        assert registered.doc_bad != registered.doc_good, code


def test_finding_takes_its_severity_from_the_registry():
    made = finding("HDR006", "message", "header:Content-Type", 3)
    assert (made.severity, made.path, made.event) == ("warning", "header:Content-Type", 3)


def test_unregistered_code_raises():
    with pytest.raises(KeyError):
        finding("NOPE999", "message")


def test_registering_twice_differently_raises():
    existing = CHECKS["AUTH001"]
    assert check(existing.code, existing.severity, existing.title,
                bad=existing.doc_bad, good=existing.doc_good, link=existing.link) == existing
    with pytest.raises(ValueError):
        check("AUTH001", "info", existing.title, bad=existing.doc_bad, good=existing.doc_good)
    with pytest.raises(ValueError):
        check("TEST999", "fatal", "not a severity", bad="x", good="y")
    assert "TEST999" not in CHECKS


@pytest.mark.parametrize("code", sorted(code for code in CHECKS if code.startswith(("SPEC", "PLAN"))))
def test_event_examples_in_the_doc_are_the_tested_ones(code):
    cells = doc_rows()[code]
    assert (cells[4], cells[5]) == (CHECKS[code].doc_bad, CHECKS[code].doc_good)
