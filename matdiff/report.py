"""Results as JSON-ready dicts: the one place that builds what `--json` prints.

The CLI's ``--json`` and the web app's ``/api/*`` answers both come from here, so a
request to the web app answers exactly what the same words on the command line print.
Each ``*_report`` takes the CLI's words as keyword arguments (``let``, ``layout``,
``convention``, ``check``, ``method``, ``seed``).
"""
from __future__ import annotations

import json

from .api import (
    _typed,
    compile,
    diff,
    evaluate,
    hessian,
    is_program,
    parse_program,
    values_from_text,
)
from .core.errors import MatdiffError
from .language.render import shape_text, to_latex, to_pretty


def number_text(value) -> str:
    """A value as a nested list of shortest numbers: 1650, [39, 54, 69], [[1, 2], [3, 4]]."""
    import numpy as np
    if np.ndim(value) == 0:
        v = float(value)
        return str(int(v)) if v.is_integer() and abs(v) < 1e15 else f"{v:.12g}"
    return "[" + ", ".join(number_text(v) for v in value) + "]"


def report(d, check=None, at=None) -> dict:
    """A derivative (or Hessian), the check that was run (None: no check) and, given
    values ``at`` ("W=[[1,2],[3,4]]; x=[1,2]"), its value there."""
    out = d.to_dict()
    out["check"] = check.to_dict() if check is not None else None
    if getattr(d, "program", None) is not None:
        out["notes"] = list(dict.fromkeys(list(out.get("notes") or []) + list(d.program.notes)))
    if at is not None:
        out["value"] = json.loads(number_text(d.evaluate(values_from_text(at))))
    return out


def checked(d, check=None, method=None, seed=0):
    """The check the CLI runs: by default central differences on what is printed;
    ``check=True`` (``--check``) elementwise sympy; ``check=False`` (``--no-check``) none."""
    if check is False:
        return None
    return d.verify(method=method or ("sympy" if check else "central"), seed=seed)


def diff_report(expr, wrt, *, let="", layout=None, convention="unconstrained",
                check=None, method=None, seed=0, syntax="matdiff", of=None, at=None) -> dict:
    """``matdiff diff EXPR --wrt WRT --json`` (``check``: see :func:`checked`)."""
    d = diff(expr, wrt, shapes=let, layout=layout, convention=convention, syntax=syntax, of=of)
    return report(d, checked(d, check, method, seed), at)


def hessian_report(expr, wrt, wrt2=None, *, let="", layout=None, check=None,
                   method=None, seed=0, syntax="matdiff", at=None) -> dict:
    """``matdiff hessian EXPR --wrt WRT [--wrt2 Y] --json``."""
    h = hessian(expr, wrt, wrt2, shapes=let, layout=layout, syntax=syntax)
    return report(h, checked(h, check, method, seed), at)


def steps_report(expr, wrt, *, let="", layout=None, convention="unconstrained",
                 syntax="matdiff") -> dict:
    """``matdiff diff EXPR --wrt WRT --steps --json``: the diff report (with the default
    check) plus ``steps``, the derivation one rule at a time."""
    from .calculus.steps import step_dicts
    d = diff(expr, wrt, shapes=let, layout=layout, convention=convention, syntax=syntax)
    out = report(d, checked(d))
    out["steps"] = step_dicts(d.steps())
    return out


def code_report(expr, wrt, *, let="", hessian=False, backend="numpy",
                syntax="matdiff") -> dict:
    """``matdiff code EXPR --wrt WRT [--hessian] [--backend B]``: the generated module's
    source (``code``). ``wrt`` may name several variables separated by commas (W,b)."""
    names = [w.strip() for w in wrt.split(",") if w.strip()]
    fn = compile(expr, names if len(names) > 1 else wrt, hessian=hessian, backend=backend,
                 shapes=let, syntax=syntax)
    return {"input": expr, "wrt": wrt, "backend": backend, "code": fn.source()}


def eval_report(expr, at, *, let="", of=None) -> dict:
    """``matdiff eval EXPR --at VALUES``: the value of an expression or of a program's
    statement, as numbers (``value``) and as the CLI prints it (``text``)."""
    values = values_from_text(at)
    if is_program(expr):
        value = parse_program(expr, let).evaluate(values, of)
    else:
        value = evaluate(expr, values, shapes=let)
    text = number_text(value)
    return {"input": expr, "at": at, "value": json.loads(text), "text": text}


def shapes_report(expr, *, let="", syntax="matdiff") -> dict:
    """``matdiff shapes EXPR --json``: every symbol with its inferred shape."""
    typed, symbols, _ = _typed(expr, let, (), syntax=syntax)
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
