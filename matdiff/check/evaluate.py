"""Numeric evaluation with numpy: bind dimensions from the values, then one rule per node.

Vectors are 1-D arrays in and out (n×1 columns inside); matrices 2-D; scalars floats.
Every mismatch — a missing symbol, a wrong shape, a dimension that disagrees with
another symbol's, a value that is not finite, a non-symmetric value for a symmetric
symbol — is an :class:`EvaluationError` naming the symbol.
"""
from __future__ import annotations

import numpy as np

from ..core.errors import EvaluationError
from ..core.names import canonical_name
from ..core.nodes import (
    Add,
    Commutation,
    Const,
    Det,
    DiagMat,
    DiagVec,
    Differential,
    DimSize,
    ElemDiv,
    ElemPower,
    Expr,
    Func,
    Hadamard,
    Identity,
    Inverse,
    Kron,
    LogDet,
    LogSumExp,
    LogSumExpRows,
    Mul,
    Norm,
    Ones,
    Power,
    Softmax,
    SoftmaxRows,
    Sum,
    Symbol,
    Trace,
    Transpose,
    Vec,
    Zero,
    symbols_of,
    walk,
)
from ..language.render import shape_text


def bind(expr_symbols: dict[str, Symbol], values: dict,
         required: tuple[str, ...] | None = None) -> tuple[dict, dict]:
    """Check values against the symbols' shapes; return (arrays by name, dims by name).

    Every symbol in ``required`` (default: all) needs a value; a value for a name that is
    not a symbol here is an error too.
    """
    if not isinstance(values, dict):
        raise EvaluationError(f"values must be a dict of name → array, got "
                              f"{type(values).__name__}")
    given = {canonical_name(str(k)): v for k, v in values.items()}
    unknown = [n for n in given if n not in expr_symbols]
    if unknown:
        raise EvaluationError(f"{', '.join(unknown)} is not a symbol of this expression "
                              f"(its symbols: {', '.join(expr_symbols) or 'none'})")
    required = tuple(expr_symbols) if required is None else required
    missing = [n for n in required if n not in given]
    if missing:
        raise EvaluationError(f"no value given for {', '.join(missing)}")
    arrays, dims, source = {}, {}, {}
    for name, sym in expr_symbols.items():
        if name not in given:
            continue
        arr = _as_array(name, given[name], sym.shape)
        for d, size in zip(sym.shape, arr.shape):
            if isinstance(d, int):
                if d != size:
                    _wrong(name, sym.shape, given[name], f"dimension {d} is fixed")
            elif dims.setdefault(d, size) != size:
                _wrong(name, sym.shape, given[name],
                       f"{d} = {dims[d]} from {source[d]}")
            source.setdefault(d, name)
        if sym.symmetric and not np.allclose(arr, arr.T, rtol=1e-10, atol=1e-12):
            raise EvaluationError(f"{name} was declared symmetric, but its value is not")
        if sym.probability and (np.any(arr < 0) or not np.isclose(arr.sum(), 1.0)):
            raise EvaluationError(f"{name} was declared a probability vector, but its entries "
                                  f"are not ≥ 0 with sum 1")
        arrays[name] = arr
    return arrays, dims


def _as_array(name, value, shape):
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise EvaluationError(f"the value of {name} is not numeric: {value!r}") from None
    if not np.all(np.isfinite(arr)):
        raise EvaluationError(f"the value of {name} contains NaN or infinity")
    if shape == ():
        if arr.size != 1:
            _wrong(name, shape, value, "expected a single number")
        return arr.reshape(())
    if shape[1] == 1 and arr.ndim == 1:
        return arr.reshape(-1, 1)
    if shape[0] == 1 and arr.ndim == 1:
        return arr.reshape(1, -1)
    if arr.ndim != 2:
        _wrong(name, shape, value, "expected a 2-D array")
    return arr


def _wrong(name, shape, value, why):
    got = np.shape(value)
    raise EvaluationError(f"{name} should be {shape_text(shape)}, got an array of shape {got} "
                          f"({why})")


def evaluate(e: Expr, values: dict, dims: dict | None = None,
             symbols: dict[str, Symbol] | None = None,
             directions: dict | None = None) -> np.ndarray:
    """The value of e (numpy, internal n×1 columns) at the given symbol values.

    ``symbols`` may name more symbols than e has (all those of a derivative's problem):
    their values are checked too, but only e's own are required.
    """
    return node_values(e, values, dims, symbols, directions)[id(e)]


def node_values(e: Expr, values: dict, dims: dict | None = None,
                symbols: dict[str, Symbol] | None = None,
                directions: dict | None = None) -> dict[int, np.ndarray]:
    """The value of every node of e, by id, from one pass (as :func:`evaluate`)."""
    own = symbols_of(e)
    arrays, bound = bind({**own, **(symbols or {})}, values, tuple(own))
    for name, direction in (directions or {}).items():   # the value of dX
        arrays[("d", name)] = np.asarray(direction, dtype=float)
    for name, size in (dims or {}).items():   # only dimensions no value fixed
        bound.setdefault(name, size)
    memo: dict[int, np.ndarray] = {}
    with np.errstate(all="ignore"):
        for node in walk(e):
            kids = [memo[id(k)] for k in node.children()]
            stable = _stable(node, memo) if isinstance(node, Func) else None
            memo[id(node)] = stable if stable is not None else \
                RULES[type(node)](node, kids, arrays, bound)
    return memo


def _stable(node: Func, memo: dict):
    """Composites whose parts overflow where the whole is finite, computed as one:
    log softmax(u) = u − logsumexp(u), log σ(u) = −log(1 + e⁻ᵘ), log(1 + eᵘ) (softplus)."""
    if node.name != "log":
        return None
    a = node.arg
    if isinstance(a, Softmax):
        u = memo[id(a.arg)]
        return _squeeze(u - _logsumexp(u))
    if isinstance(a, Func) and a.name == "sigmoid":
        return -np.logaddexp(0.0, -memo[id(a.arg)])
    if isinstance(a, Add) and len(a.terms) == 2:   # log(1 + exp(u)), either order
        one, other = (a.terms if isinstance(a.terms[0], Const) else a.terms[::-1])
        if isinstance(one, Const) and one.value == 1 and isinstance(other, Func) \
                and other.name == "exp":
            return np.logaddexp(0.0, memo[id(other.arg)])
    return None


def _logsumexp(u: np.ndarray) -> np.ndarray:
    top = np.max(u)
    if not np.isfinite(top):
        return np.asarray(top)
    return np.asarray(top + np.log(np.sum(np.exp(u - top))))


def directional(dF: Expr, x: Symbol, values: dict, dims: dict | None = None,
                symbols: dict | None = None) -> np.ndarray:
    """The derivative tensor of F (numpy shape F.shape + x.shape) from its differential:
    dF is linear in dx, so its value at dx = e_kl is exactly ∂F/∂x_kl."""
    arrays, bound = bind({**symbols_of(dF), **(symbols or {})}, values,
                         tuple(n for n in symbols_of(dF)))
    bound.update({k: v for k, v in (dims or {}).items() if k not in bound})
    shape = tuple(_dim(d, bound) for d in x.shape)
    f_shape = tuple(_dim(d, bound) for d in dF.shape)
    out = np.zeros(f_shape + shape)
    for idx in np.ndindex(*shape):
        direction = np.zeros(shape)
        direction[idx] = 1.0
        value = evaluate(dF, values, bound, symbols, {x.name: direction})
        out[(Ellipsis,) + idx] = np.broadcast_to(value, f_shape)
    return out


def to_user(value: np.ndarray, shape) -> np.ndarray | float:
    """Internal value → what the API returns: float, 1-D vector, or 2-D matrix."""
    if shape == ():
        return float(np.asarray(value).reshape(()))
    if shape[1] == 1:
        return np.asarray(value).reshape(-1)
    return np.asarray(value)


def _dim(d, dims):
    if isinstance(d, int):
        return d
    if "·" in d:
        return int(np.prod([_dim(int(p) if p.isdigit() else p, dims) for p in d.split("·")]))
    if d not in dims:
        raise EvaluationError(f"the dimension {d} is not fixed by any value given")
    return dims[d]


def _matmul_chain(node, kids, arrays, dims):
    out = None
    for v in kids:
        if np.ndim(v) == 0:
            out = v if out is None else out * v
        elif out is None or np.ndim(out) == 0:
            out = v if out is None else out * v
        else:
            out = out @ v
    return _squeeze(out)


def _squeeze(v):
    v = np.asarray(v)
    return v.reshape(()) if v.shape == (1, 1) else v


_ELEMENTWISE = {"exp": np.exp, "log": np.log, "sin": np.sin, "cos": np.cos, "tanh": np.tanh,
                "sqrt": np.sqrt, "sigmoid": lambda u: 0.5 * (1.0 + np.tanh(0.5 * np.asarray(u))),
                "tan": np.tan, "arcsin": np.arcsin, "arccos": np.arccos, "arctan": np.arctan,
                "relu": lambda u: np.maximum(u, 0.0), "abs": np.abs, "sign": np.sign,
                "step": lambda u: np.heaviside(u, 0.0),
                "softplus": lambda u: np.logaddexp(0.0, u)}   # log(1 + eᵘ) without overflow

RULES = {
    Symbol: lambda n, k, a, d: a[n.name],
    Const: lambda n, k, a, d: np.asarray(float(n.value)),
    Identity: lambda n, k, a, d: np.eye(_dim(n.n, d)),
    Zero: lambda n, k, a, d: np.zeros(tuple(_dim(x, d) for x in n.shape_)),
    Ones: lambda n, k, a, d: np.ones(tuple(_dim(x, d) for x in n.shape_)),
    DimSize: lambda n, k, a, d: np.asarray(float(_dim(n.dim, d))),
    Differential: lambda n, k, a, d: a[("d", n.of.name)],
    Add: lambda n, k, a, d: _squeeze(sum(k[1:], k[0])),
    Mul: _matmul_chain,
    Hadamard: lambda n, k, a, d: np.prod(np.broadcast_arrays(*k), axis=0),
    ElemDiv: lambda n, k, a, d: k[0] / k[1],
    Power: lambda n, k, a, d: (k[0] ** float(n.exponent) if np.ndim(k[0]) == 0
                               else np.linalg.matrix_power(k[0], int(n.exponent))),
    Transpose: lambda n, k, a, d: k[0].T,
    Inverse: lambda n, k, a, d: np.linalg.inv(k[0]),
    Trace: lambda n, k, a, d: np.asarray(np.trace(k[0])),
    Det: lambda n, k, a, d: np.asarray(np.linalg.det(k[0])),
    LogDet: lambda n, k, a, d: np.asarray(np.log(np.linalg.det(k[0]))),
    Func: lambda n, k, a, d: _ELEMENTWISE[n.name](k[0]),
    Sum: lambda n, k, a, d: np.asarray(np.sum(k[0])),
    DiagMat: lambda n, k, a, d: np.diag(k[0].reshape(-1)),
    DiagVec: lambda n, k, a, d: np.diag(k[0]).reshape(-1, 1).copy(),
    Norm: lambda n, k, a, d: np.asarray(np.linalg.norm(k[0])),
    Kron: lambda n, k, a, d: np.kron(np.atleast_2d(k[0]), np.atleast_2d(k[1])),
    Softmax: lambda n, k, a, d: _softmax(k[0]),
    LogSumExp: lambda n, k, a, d: _logsumexp(k[0]),
    Commutation: lambda n, k, a, d: commutation(_dim(n.m, d), _dim(n.n, d)),
    Vec: lambda n, k, a, d: np.asarray(k[0]).reshape(-1, 1, order="F"),
    ElemPower: lambda n, k, a, d: np.power(k[0], k[1]),
    SoftmaxRows: lambda n, k, a, d: _softmax_rows(k[0]),
    LogSumExpRows: lambda n, k, a, d: _logsumexp_rows(k[0]),
}


def _softmax_rows(X: np.ndarray) -> np.ndarray:
    X = np.atleast_2d(X)
    e = np.exp(X - np.max(X, axis=1, keepdims=True))   # shifted: no overflow
    return e / np.sum(e, axis=1, keepdims=True)


def _logsumexp_rows(X: np.ndarray) -> np.ndarray:
    X = np.atleast_2d(X)
    top = np.max(X, axis=1, keepdims=True)
    return top + np.log(np.sum(np.exp(X - top), axis=1, keepdims=True))


def _softmax(u: np.ndarray) -> np.ndarray:
    e = np.exp(u - np.max(u))
    return e / np.sum(e)


def commutation(m: int, n: int) -> np.ndarray:
    """K with K vec(X) = vec(Xᵀ) for an m×n X (column-major vec)."""
    K = np.zeros((m * n, m * n))
    for i in range(m):
        for j in range(n):
            K[i * n + j, j * m + i] = 1.0
    return K


def value_of(e: Expr, values: dict, symbols: dict[str, Symbol] | None = None):
    """The user-facing value of a typed expression: float, 1-D vector or 2-D matrix.

    A value that is not finite (log of a negative number, a singular inverse) is an
    EvaluationError, never a silent nan."""
    with np.errstate(all="ignore"):
        v = np.asarray(evaluate(e, values, None, symbols), dtype=float)
    if not np.all(np.isfinite(v)):
        raise EvaluationError("the value is not finite at these values (outside the domain: "
                              "a log or sqrt of a negative number, a singular matrix?)")
    return to_user(v, e.shape)
