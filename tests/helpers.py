"""Shared helpers: seeded random values at distinct small sizes."""
from __future__ import annotations

import numpy as np

import matdiff
from matdiff.check.verifier import _user, choose_sizes, random_point
from matdiff.core.nodes import symbols_of


def values_for(*exprs, seed=0, start=2):
    """Domain-valid random values for every symbol of the (typed) expressions."""
    symbols = {}
    for e in exprs:
        symbols.update(symbols_of(e))
    if not symbols:
        return {}
    first = next(iter(symbols.values()))
    sizes = choose_sizes(list(exprs), first, start=start)
    point = random_point(symbols, sizes, seed)
    return {n: _user(v, symbols[n].shape) for n, v in point.items()}


def value(expr, values, dims=None):
    from matdiff.check.evaluate import evaluate
    return np.asarray(evaluate(expr, values, dims), dtype=float)


def _dims(ea, eb, vals):
    """Sizes for dimensions no value fixes (I, 𝟏 on their own): 3 each."""
    from matdiff.core.nodes import walk
    names = set()
    for e in (ea, eb):
        for node in walk(e):
            for attr in ("n", "shape_"):
                v = getattr(node, attr, None)
                for d in (v if isinstance(v, tuple) else (v,)):
                    if isinstance(d, str):
                        names.add(d)
    return {d: 3 for d in names}


def same_value(a, b, seed=0, **decl):
    """Two expressions (text or typed) have equal values at one random point."""
    ea = matdiff.parse(a, **decl) if isinstance(a, str) else a
    eb = matdiff.parse(b, **decl) if isinstance(b, str) else b
    from matdiff.check.evaluate import bind
    vals = values_for(ea, eb, seed=seed)
    _, bound = bind({**symbols_of(ea), **symbols_of(eb)}, vals)
    dims = {**_dims(ea, eb, vals), **bound}   # sizes the values fix; 3 for the rest
    va = value(ea, {k: v for k, v in vals.items() if k in symbols_of(ea)}, dims)
    vb = value(eb, {k: v for k, v in vals.items() if k in symbols_of(eb)}, dims)
    return va.shape == vb.shape and np.allclose(va, vb, rtol=1e-10, atol=1e-12)


def printed_form_agrees(d, seed=0, sizes=None):
    """The form a Derivative prints (matrix, Jacobian or vec/Kronecker form) has the value
    of its differential (evaluated entry by entry), at one random point.

    The Kronecker form M is read as vec(dF) = M vec(dX) (column-major, numerator layout;
    Mᵀ in denominator layout)."""
    from matdiff.check.evaluate import evaluate
    from matdiff.check.verifier import concrete
    form = d.main_form()
    assert form is not d.differential, f"prints a raw differential: {d.pretty()}"
    symbols = dict(d.symbols)
    symbols.setdefault(d.wrt.name, d.wrt)
    sz = choose_sizes([d.expr, form], d.wrt, fixed=sizes)
    point = random_point(symbols, sz, seed)
    vals = {n: _user(v, symbols[n].shape) for n, v in point.items()}
    truth = np.asarray(d._tensor(vals, sz), dtype=float)   # F.shape + X.shape
    own = {n: v for n, v in vals.items() if n in symbols_of(form)}
    got = np.asarray(evaluate(form, own, sz, symbols), dtype=float)
    flip = d.layout == "denominator"
    if form is d.kron:   # M[vec F index, vec X index], column-major
        M = got.T if flip else got
        f2, x2 = concrete(d.expr.shape, sz) or (1, 1), concrete(d.wrt.shape, sz) or (1, 1)
        t = truth.reshape(tuple(f2) + tuple(x2))
        flat = t.transpose(1, 0, 3, 2).reshape(f2[0] * f2[1], x2[0] * x2[1])
        return M.shape == flat.shape and np.allclose(M, flat, rtol=1e-8, atol=1e-10)
    if d.kind == "jacobian" and flip:
        got = got.T
    if got.size != truth.size:
        return False
    return np.allclose(got.reshape(truth.shape), truth, rtol=1e-8, atol=1e-10)


def node_reads(work) -> int:
    """How many node fields ``work()`` reads (Expr.key calls): an operation count, the
    same on any machine, so a blow-up fails deterministically instead of being slow."""
    from matdiff.core.nodes import Expr
    calls, original = [0], Expr.key

    def counting(self):
        calls[0] += 1
        return original(self)
    Expr.key = counting
    try:
        work()
    finally:
        Expr.key = original
    return calls[0]
