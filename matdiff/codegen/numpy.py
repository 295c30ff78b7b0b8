"""The NumPy backend: one rule per node type, spelling the node from its children's code.

Adding a node type is one line here (and one in jax.py when the spelling differs).
"""
from __future__ import annotations

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
)
from .plan import (
    Entry,
    MatMul,
    ScaleCols,
    ScaleRows,
    Solve,
    SolveRight,
    SquaredNorm,
    TraceOfProduct,
    WeightedGram,
)
from .emit import Backend, atom, number


def _add(n, a, e):
    out = a[0]
    for term in a[1:]:
        negated = term.startswith("-") and atom(term[1:]) == term[1:]
        out += f" - {term[1:]}" if negated else f" + {term}"
    return out


def _mul(n, a, e):
    if len(a) > 1 and isinstance(n.factors[0], Const) and n.factors[0].value == -1:
        rest = a[1] if len(a) == 2 else " * ".join(atom(x) for x in a[1:])
        return f"-{atom(rest)}"
    return " * ".join(atom(x) for x in a)


def _power(n, a, e):
    if n.base.shape != ():
        return f"{e.np}.linalg.matrix_power({a[0]}, {int(n.exponent)})"
    if n.exponent == -1:
        return f"1.0 / {atom(a[0])}"
    if n.exponent == 2:
        return f"{atom(a[0])} * {atom(a[0])}" if a[0].isidentifier() else f"{atom(a[0])} ** 2"
    return f"{atom(a[0])} ** {number(n.exponent)}"


def _zero(n, a, e):
    return "0.0" if n.shape_ == () else f"{e.np}.zeros({e.shape(n.shape_)})"


ELEMENTWISE = {
    "exp": "{np}.exp({u})", "log": "{np}.log({u})", "sin": "{np}.sin({u})",
    "cos": "{np}.cos({u})", "tanh": "{np}.tanh({u})", "sqrt": "{np}.sqrt({u})",
    "sigmoid": "{np}.exp(-{np}.logaddexp(0.0, -{a}))",     # σ(u) without overflow
    "softplus": "{np}.logaddexp(0.0, {u})",                # log(1 + eᵘ) without overflow
    "tan": "{np}.tan({u})", "arcsin": "{np}.arcsin({u})", "arccos": "{np}.arccos({u})",
    "arctan": "{np}.arctan({u})", "relu": "{np}.maximum({u}, 0.0)", "abs": "{np}.abs({u})",
    "sign": "{np}.sign({u})", "step": "{np}.heaviside({u}, 0.0)",  # step(0) = 0, as evaluate
}


def _func(n, a, e):
    spelling = e.backend.elementwise.get(n.name)
    if spelling is None:
        from ..core.errors import NoRuleError
        raise NoRuleError(f"the {e.backend.name} backend has no rule for {n.name}")
    return spelling.format(np=e.np, u=a[0], a=atom(a[0]))


RULES = {
    Symbol: lambda n, a, e: e.var(n.name),
    Const: lambda n, a, e: number(n.value),
    Identity: lambda n, a, e: f"{e.np}.eye({e.dim(n.n)})",
    Zero: _zero,
    Ones: lambda n, a, e: f"{e.np}.ones({e.shape(n.shape_)})",
    DimSize: lambda n, a, e: f"float({e.dim(n.dim)})",
    Differential: lambda n, a, e: e.direction(n.of.name),
    Add: _add,
    Mul: _mul,
    Hadamard: lambda n, a, e: " * ".join(atom(x) for x in a),
    ElemDiv: lambda n, a, e: f"{atom(a[0])} / {atom(a[1])}",
    Power: _power,
    Transpose: lambda n, a, e: a[0] if n.shape == () else f"{atom(a[0])}.T",
    Inverse: lambda n, a, e: f"{e.np}.linalg.inv({a[0]})",
    Trace: lambda n, a, e: f"{e.np}.trace({a[0]})",
    Det: lambda n, a, e: f"{e.np}.linalg.det({a[0]})",
    LogDet: lambda n, a, e: f"{e.np}.linalg.slogdet({a[0]})[1]",
    Func: _func,
    Sum: lambda n, a, e: f"{e.np}.sum({a[0]})",
    DiagMat: lambda n, a, e: f"{e.np}.diag({atom(a[0])}.reshape(-1))",
    DiagVec: lambda n, a, e: f"{e.np}.diag({a[0]}).reshape(-1, 1)",
    Norm: lambda n, a, e: f"{e.np}.linalg.norm({a[0]})",
    Softmax: lambda n, a, e: f"{e.helper('_softmax')}({a[0]})",
    LogSumExp: lambda n, a, e: f"{e.helper('_logsumexp')}({a[0]})",
    Kron: lambda n, a, e: f"{e.np}.kron({e.np}.atleast_2d({a[0]}), {e.np}.atleast_2d({a[1]}))",
    Commutation: lambda n, a, e: f"{e.helper('_commutation')}({e.dim(n.m)}, {e.dim(n.n)})",
    Vec: lambda n, a, e: f"{atom(a[0])}.T.reshape(-1, 1)",
    ElemPower: lambda n, a, e: f"{e.np}.power({a[0]}, {a[1]})",
    SoftmaxRows: lambda n, a, e: f"{e.helper('_softmax_rows')}({a[0]})",
    LogSumExpRows: lambda n, a, e: f"{e.helper('_logsumexp_rows')}({a[0]})",
    # operations of the plan
    MatMul: lambda n, a, e: f"{atom(a[0])} @ {atom(a[1])}",
    ScaleRows: lambda n, a, e: f"{atom(a[0])} * {atom(a[1])}",
    ScaleCols: lambda n, a, e: f"{atom(a[0])} * {atom(a[1])}.T",
    Solve: lambda n, a, e: f"{e.np}.linalg.solve({a[0]}, {a[1]})",
    SolveRight: lambda n, a, e: f"{e.np}.linalg.solve({atom(a[1])}.T, {atom(a[0])}.T).T",
    WeightedGram: lambda n, a, e: f"{e.helper('_weighted_gram')}({a[0]}, {a[1]})",
    Entry: lambda n, a, e: f"{atom(a[0])}[0, 0]",
    TraceOfProduct: lambda n, a, e: f"{e.np}.sum({atom(a[0])} * {atom(a[1])}.T)",
    SquaredNorm: lambda n, a, e: (f"{atom(a[0])} * {atom(a[0])}" if n.arg.shape == ()
                                       else f"{e.np}.vdot({a[0]}, {a[0]})"),
}

HELPERS = {
    "_bound": '''def _bound(dims):
    return " (" + ", ".join(f"{d} = {v}" for d, v in dims.items()) + ")" if dims else ""
''',
    "_from_differential": '''def _from_differential(dF, f_shape, x_shape):
    """The derivative tensor (F.shape + X.shape) from dF, linear in dX: dF(E_kl) = ∂F/∂X_kl."""
    size = x_shape[0] * x_shape[1]
    basis = np.eye(size).reshape((size,) + x_shape)
    columns = np.stack([np.broadcast_to(dF(e), f_shape) for e in basis], axis=-1)
    return columns.reshape(f_shape + x_shape)
''',
    "_softmax": '''def _softmax(u):
    e = np.exp(u - np.max(u))
    return e / np.sum(e)
''',
    "_logsumexp": '''def _logsumexp(u):
    top = np.max(u)
    return top + np.log(np.sum(np.exp(u - top)))
''',
    "_softmax_rows": '''def _softmax_rows(X):
    e = np.exp(X - np.max(X, axis=1, keepdims=True))
    return e / np.sum(e, axis=1, keepdims=True)
''',
    "_logsumexp_rows": '''def _logsumexp_rows(X):
    top = np.max(X, axis=1, keepdims=True)
    return top + np.log(np.sum(np.exp(X - top), axis=1, keepdims=True))
''',
    "_commutation": '''def _commutation(m, n):
    """K with K vec(X) = vec(Xᵀ) for an m×n X (column-major vec)."""
    return np.eye(m * n)[np.arange(m * n).reshape(n, m).T.reshape(-1)]
''',
    "_weighted_gram": '''def _weighted_gram(b, w):
    """bᵀ diag(w) b: a syrk through √w ⊙ b when w ≥ 0, else one product."""
    if np.all(w >= 0):
        c = np.sqrt(w) * b
        return c.T @ c
    return b.T @ (w * b)
''',
}

BACKEND = Backend(name="numpy", rules=RULES, imports="import numpy as np", helpers=HELPERS,
                  array="np.asarray({x}, dtype=float)", np="np", elementwise=ELEMENTWISE)
