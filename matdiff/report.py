"""Results as JSON-ready dicts: the one place that builds what `--json` prints.

The CLI's ``--json`` and the web app's ``/api/*`` answers both come from here, so a
request to the web app answers exactly what the same words on the command line print.
Each ``*_report`` takes the CLI's words as keyword arguments (``let``, ``layout``,
``convention``, ``check``, ``method``, ``seed``).
"""
from __future__ import annotations

from .api import _typed, diff, hessian
from .core.errors import MatdiffError
from .language.render import shape_text, to_latex, to_pretty


def report(d, check=None) -> dict:
    """A derivative (or Hessian) and the check that was run (None: no check)."""
    out = d.to_dict()
    out["check"] = check.to_dict() if check is not None else None
    return out


def diff_report(expr, wrt, *, let="", layout=None, convention="unconstrained",
                check=False, method="sympy", seed=0) -> dict:
    """``matdiff diff EXPR --wrt WRT --json`` (with ``--check`` when ``check``)."""
    d = diff(expr, wrt, shapes=let, layout=layout, convention=convention)
    return report(d, d.verify(method=method, seed=seed) if check else None)


def hessian_report(expr, wrt, wrt2=None, *, let="", layout=None, check=False,
                   method="sympy", seed=0) -> dict:
    """``matdiff hessian EXPR --wrt WRT [--wrt2 Y] --json``."""
    h = hessian(expr, wrt, wrt2, shapes=let, layout=layout)
    return report(h, h.verify(method=method, seed=seed) if check else None)


def shapes_report(expr, *, let="") -> dict:
    """``matdiff shapes EXPR --json``: every symbol with its inferred shape."""
    typed, symbols, _ = _typed(expr, let, ())
    return {"input": expr,
            "symbols": [{"name": name, "unicode": to_pretty(sym), "latex": to_latex(sym),
                         "shape": list(sym.shape),
                         "text": shape_text(sym.shape), "symmetric": sym.symmetric}
                        for name, sym in symbols.items()],
            "shape": list(typed.shape), "text": shape_text(typed.shape)}


def error_report(err: MatdiffError) -> dict:
    """A typed error: its kind, message, and where (line, column, span; None if unknown)."""
    located = err.span is not None and err.source is not None
    return {"error": type(err).__name__, "message": err.message, "line": err.line,
            "column": err.column, "source": err.source if located else None,
            "span": list(err.span) if located else None, "context": err.context() or None}
