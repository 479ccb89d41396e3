"""The finding codes' reference ships inside the package, the same text as docs/checks.md."""

from __future__ import annotations

import importlib
import pkgutil

import inspector.core.auth  # registers AUTH codes
import inspector.core.checks as checks
import inspector.core.headers  # registers HDR codes
import inspector.core.intake  # registers REQ codes
import inspector.receiver  # noqa: F401  (registers INSP codes)
from inspector.core.checks import CHECKS, url_for
from inspector.mcp_server import reference

from ..conftest import ROOT

for module in pkgutil.iter_modules(checks.__path__, checks.__name__ + "."):
    importlib.import_module(module.name)


def test_the_shipped_reference_is_docs_checks_md():
    assert reference.document() == (ROOT / "docs" / "checks.md").read_text(encoding="utf-8"), \
        "copy docs/checks.md to inspector/mcp_server/checks.md"


def test_every_registered_code_has_an_entry_with_its_severity_and_page():
    entries = reference.entries()
    assert set(entries) == set(CHECKS)
    for code, registered in CHECKS.items():
        assert entries[code].startswith(f"# {code} ({registered.severity})"), code
        assert entries[code].endswith(url_for(code)) and "What it means: " in entries[code], code
