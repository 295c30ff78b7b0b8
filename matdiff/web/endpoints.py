"""The JSON API's table: each endpoint names the report function that answers it.

An endpoint's request words are the keyword parameters of its function (the CLI's words:
``expr``, ``wrt``, ``let``, ``layout``, ``convention``, ``check``, ...), read from the
function's signature, so a function added to :mod:`matdiff.report` brings its words with
it.  An endpoint whose function does not exist yet answers 501 "not available in this
version".  Nothing here needs the web framework: the worker processes import it too.
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass

from .. import report
from ..core.errors import MatdiffError

#: endpoint (POST /api/<name>) → function in matdiff.report
ENDPOINTS = {
    "diff": "diff_report",
    "hessian": "hessian_report",
    "steps": "steps_report",
    "code": "code_report",
    "eval": "eval_report",
    "shapes": "shapes_report",
}

#: words that are always text (the rest are checked against their default's type)
TEXT_WORDS = ("expr", "wrt", "wrt2", "let", "layout", "convention", "method", "backend")


class RequestError(MatdiffError):
    """A request the API cannot take: unknown endpoint or word, a word of the wrong type."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Endpoint:
    name: str
    function: object

    @property
    def words(self) -> dict[str, inspect.Parameter]:
        return {n: p for n, p in inspect.signature(self.function).parameters.items()
                if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}

    def arguments(self, body) -> dict:
        """The keyword arguments for the function, or a RequestError saying what is wrong."""
        if not isinstance(body, dict):
            raise RequestError("the request body must be a JSON object such as "
                               '{"expr": "aᵀXb", "wrt": "X"}')
        words = self.words
        unknown = sorted(set(body) - set(words))
        if unknown:
            raise RequestError(f"/api/{self.name} does not know {', '.join(map(repr, unknown))}; "
                               f"its words are {', '.join(words)}")
        missing = [n for n, p in words.items() if p.default is p.empty and n not in body]
        if missing:
            raise RequestError(f"/api/{self.name} needs {', '.join(map(repr, missing))}")
        for name, value in body.items():
            _check_type(name, value, words[name].default)
        return dict(body)


BOOLEAN_WORDS = {"check"}   # None (the default check), true (sympy) or false (none)


def _check_type(name, value, default) -> None:
    if value is None and default is None:
        return
    if name in TEXT_WORDS:
        expected, wanted = str, "text"
    elif isinstance(default, bool) or name in BOOLEAN_WORDS:
        expected, wanted = bool, "true or false"
    elif isinstance(default, int):
        expected, wanted = int, "a whole number"
    else:
        return
    if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
        raise RequestError(f"{name!r} must be {wanted}, got {value!r:.60}")


def endpoint(name: str) -> Endpoint:
    """The endpoint for a name; RequestError 404 (unknown) or 501 (not in this version)."""
    if name not in ENDPOINTS:
        raise RequestError(f"there is no /api/{name}; the endpoints are "
                           f"{', '.join(ENDPOINTS)}", 404)
    function = getattr(report, ENDPOINTS[name], None)
    if function is None:
        raise RequestError(f"/api/{name} is not available in this version of matdiff", 501)
    return Endpoint(name, function)


def answer(name: str, body) -> tuple[int, dict]:
    """HTTP status and JSON body for one request: the report, or a typed error."""
    try:
        ep = endpoint(name)
        return 200, ep.function(**ep.arguments(body))
    except RequestError as e:
        return e.status, report.error_report(e)
    except MatdiffError as e:
        return 400, report.error_report(e)
