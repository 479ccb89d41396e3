"""The receiver's one private aiohttp hook (inspector/receiver/refusals.py) is where we expect it.

If aiohttp moves or renames what that module replaces, these fail with what to update,
before a user's refused requests silently lose their JSON answer and their record.
"""

from __future__ import annotations

import inspect

import aiohttp
from aiohttp.web_protocol import RequestHandler

UPDATE = (f"aiohttp {aiohttp.__version__} changed RequestHandler: inspector/receiver/refusals.py replaces "
          "its handle_error to answer the requests its parser refuses in JSON; update that module, then "
          "the aiohttp pin in pyproject.toml")


def test_handle_error_takes_what_refusals_py_expects() -> None:
    parameters = list(inspect.signature(RequestHandler.handle_error).parameters)
    assert parameters == ["self", "request", "status", "exc", "message"], UPDATE


def test_the_parser_error_path_goes_through_handle_error() -> None:
    source = inspect.getsource(RequestHandler)
    assert "self.handle_error(" in inspect.getsource(RequestHandler._make_error_handler), UPDATE
    assert "_make_error_handler(message)" in source, UPDATE


def test_a_handler_is_made_from_the_server_and_the_options_apprunner_documents() -> None:
    parameters = inspect.signature(RequestHandler.__init__).parameters
    assert list(parameters)[:2] == ["self", "manager"], UPDATE
    for name in ("loop", "keepalive_timeout", "logger", "access_log", "auto_decompress"):
        assert name in parameters and parameters[name].kind is inspect.Parameter.KEYWORD_ONLY, UPDATE
