"""Check a derivation numerically: every step's expression against dF at a random point.

At a random point and a random direction V for X, each d(U) marker in a step takes the
central difference (U(X + hV) − U(X − hV))/2h, dX takes V, and the step's value is
compared with the central difference of F itself — so each step is checked against the
truth, not only against the step before it.  Gradients are checked through ⟨G, V⟩,
Jacobians through J V, vec forms through vec(dF), the symmetric convention through the
sum over the independent entries.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.nodes import Differential, Expr, Symbol, symbols_of
from .evaluate import evaluate
from .verifier import _user, choose_sizes, concrete, random_point


@dataclass
class StepCheck:
    rule: str
    ok: bool
    expected: np.ndarray
    got: np.ndarray


def check_steps(steps, seed: int = 0, h: float = 1e-6, rtol: float = 1e-5,
                atol: float = 1e-7) -> list[StepCheck]:
    """One StepCheck per step, in order."""
    if not steps:
        return []
    exprs = [s.expr for s in steps] + [s.of for s in steps]
    symbols: dict[str, Symbol] = {}
    for e in exprs:
        symbols.update({n: s for n, s in _symbols(e).items()})
    wrts = {s.wrt.name: s.wrt for s in steps}
    symbols.update(wrts)
    sizes = choose_sizes(exprs, next(iter(wrts.values())))
    for e in exprs:   # dimensions only I or 𝟏 use: 3
        for d in _free_dims(e):
            sizes.setdefault(d, 3)
    point = random_point(symbols, sizes, seed)
    rng = np.random.default_rng(seed + 1)
    directions = {}
    for name, x in wrts.items():
        V = rng.uniform(-1, 1, size=concrete(x.shape, sizes) or ())
        directions[name] = (V + V.T) / 2 if x.symmetric else V
    values = {n: _user(v, symbols[n].shape) for n, v in point.items()}
    out = []
    for s in steps:
        V = directions[s.wrt.name]
        expected = _central(s.of, s.wrt, values, V, sizes, h)
        got, expected = _claimed(s, values, V, sizes, h, expected)
        ok = got.size == expected.size and np.allclose(got.ravel(order="F"),
                                                       expected.ravel(order="F"),
                                                       rtol=rtol, atol=atol)
        out.append(StepCheck(s.rule, bool(ok), expected, got))
    return out


def _symbols(e: Expr) -> dict[str, Symbol]:
    return symbols_of(e)


def _free_dims(e: Expr):
    from ..core.nodes import walk
    for node in walk(e):
        for attr in ("n", "shape_"):
            v = getattr(node, attr, None)
            for d in (v if isinstance(v, tuple) else (v,)):
                if isinstance(d, str) and "·" not in d:
                    yield d


def _shifted(values, x: Symbol, V, t):
    base = np.asarray(values[x.name], dtype=float).reshape(np.shape(V))
    return {**values, x.name: _user(base + t * V, x.shape)}


def _value(e: Expr, values, sizes) -> np.ndarray:
    own = symbols_of(e)
    return np.asarray(evaluate(e, {k: v for k, v in values.items() if k in own}, sizes),
                      dtype=float)


def _central(F: Expr, x: Symbol, values, V, sizes, h) -> np.ndarray:
    plus = _value(F, _shifted(values, x, V, h), sizes)
    minus = _value(F, _shifted(values, x, V, -h), sizes)
    return (plus - minus) / (2 * h)


def _markers(e: Expr, x: Symbol, values, V, sizes, h) -> tuple[Expr, dict]:
    """e with each d(U) (U not a symbol) replaced by a fresh symbol valued dU along V."""
    extra: dict = {}
    memo: dict[int, Expr] = {}

    def go(node: Expr) -> Expr:
        if isinstance(node, Differential):
            if isinstance(node.of, Symbol):
                return node
            name = f"Ξ_{len(extra) + 1}"
            extra[name] = _user(_central(node.of, x, values, V, sizes, h), node.of.shape)
            return Symbol(name, node.of.shape)
        if not node.children():
            return node
        if id(node) not in memo:
            memo[id(node)] = node.rebuild([go(k) for k in node.children()])
        return memo[id(node)]
    return go(e), extra


def _claimed(s, values, V, sizes, h, expected):
    if s.kind in ("differential", "vec"):
        e, extra = _markers(s.expr, s.wrt, values, V, sizes, h)
        own = symbols_of(e)
        got = np.asarray(evaluate(e, {k: v for k, v in {**values, **extra}.items()
                                      if k in own}, sizes,
                                  directions={s.wrt.name: V}), dtype=float)
        if s.kind == "vec":
            expected = np.asarray(expected).reshape(-1, order="F")
        return np.atleast_1d(got), np.atleast_1d(expected)
    value = _value(s.expr, values, sizes)
    if s.kind == "gradient":
        G = value.reshape(np.shape(V)) if value.size == np.size(V) else value
        return np.atleast_1d(np.sum(G * V)), np.atleast_1d(expected)
    if s.kind == "symmetric":
        return np.atleast_1d(np.sum(np.tril(value * V))), np.atleast_1d(expected)
    if s.kind == "by scalar":
        return np.atleast_1d(value * V), np.atleast_1d(expected)
    if s.kind == "jacobian":
        v = np.reshape(V, (-1, 1))
        J = np.atleast_2d(value).T if s.transposed else np.atleast_2d(value)
        got = J @ v
        return got.reshape(-1), np.asarray(expected).reshape(-1)
    raise ValueError(f"unknown step kind {s.kind}")
