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
    Inner,
    PermuteCols,
    PermuteRows,
    MatMul,
    ScaleCols,
    ScaleRows,
    Solve,
    SolveRight,
    SquaredNorm,
    TraceOfProduct,
    WeightedGram,
)
from .emit import Backend, as_2d, as_kind, atom, kind_of, number


def _negated(term: str) -> bool:
    return term.startswith("-") and atom(term[1:]) == term[1:]


def _add(n, a, e):
    """t1 + t2 - t3 ...; a positive term goes first, so that −y + s is s - y (one pass
    fewer than negating y)."""
    first = next((i for i, t in enumerate(a) if not _negated(t)), 0)
    a = [a[first]] + a[:first] + a[first + 1:]
    out = a[0]
    for term in a[1:]:
        out += f" - {term[1:]}" if _negated(term) else f" + {term}"
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
    WeightedGram: lambda n, a, e: f"{e.helper('_weighted_gram')}({a[0]}, {atom(a[1])}.reshape(-1))",
    Entry: lambda n, a, e: f"{atom(a[0])}[0, 0]",
    TraceOfProduct: lambda n, a, e: f"{e.np}.sum({atom(a[0])} * {atom(a[1])}.T)",
    Inner: lambda n, a, e: f"{e.np}.vdot({a[0]}, {a[1]})",
    PermuteRows: lambda n, a, e: f"{atom(a[1])}[{_index(n.k, e)}]",
    PermuteCols: lambda n, a, e: f"{atom(a[0])}[:, {_index(n.k, e, True)}]",
    SquaredNorm: lambda n, a, e: (f"{atom(a[0])} * {atom(a[0])}" if n.arg.shape == ()
                                       else f"{e.np}.vdot({a[0]}, {a[0]})"),
}


# ----- layout rules: vectors stay 1-D (x @ y, A @ x, u[:, None] * v), see emit.kind_of ----

def _common(n, args):
    """The layout the non-scalar arguments share, else the node's own."""
    kinds = {k for _, k in args if k != "s"}
    return kinds.pop() if len(kinds) == 1 else kind_of(n.shape) if kinds else "s"


def _entrywise(join):
    def rule(n, a, e):
        want = _common(n, a)
        return join([as_kind(t, k, want) for t, k in a], n, e), want
    return rule


def _l_add(n, a, e):
    want = _common(n, a)
    return _add(n, [as_kind(t, k, want) for t, k in a], e), want


def _l_mul(n, a, e):
    kinds = [k for _, k in a if k != "s"]
    if len(kinds) > 1:
        return _mul(n, [as_2d(t, k) for t, k in a], e), "m"
    return _mul(n, [t for t, _ in a], e), (kinds[0] if kinds else "s")


def _l_transpose(n, a, e):
    (t, k), = a
    if k == "m":
        return f"{atom(t)}.T", "m"
    return t, {"c": "r", "r": "c", "s": "s"}[k]


def _l_matmul(n, a, e):
    (left, lk), (r, rk) = a
    if "s" in (lk, rk):                     # a 1×1 held as a scalar
        return f"{atom(left)} * {atom(r)}", (rk if lk == "s" else lk)
    if lk == "c" and rk == "r":      # an outer product by broadcasting (np.outer is slower)
        return f"{atom(left)}[:, None] * {atom(r)}", "m"
    if (lk, rk) in (("r", "c"), ("m", "c"), ("r", "m"), ("m", "m")):
        kind = {"rc": "s", "mc": "c", "rm": "r", "mm": "m"}[lk + rk]
        return f"{atom(left)} @ {atom(r)}", kind
    return f"{atom(as_2d(left, lk))} @ {atom(as_2d(r, rk))}", "m"


def _l_scale_rows(n, a, e):
    (v, vk), (m, mk) = a
    if vk == "c" and mk == "m":
        return f"{atom(v)}[:, None] * {atom(m)}", "m"
    if vk == "c" and mk == "c" or vk == "s":
        return f"{atom(v)} * {atom(m)}", mk
    return f"{atom(as_2d(v, vk))} * {atom(as_2d(m, mk))}", "m"


def _l_scale_cols(n, a, e):
    (m, mk), (v, vk) = a
    if vk in "cs" and mk in "mr":
        return f"{atom(m)} * {atom(v)}", mk
    return f"{atom(as_2d(m, mk))} * {atom(as_2d(v, vk))}.T", "m"


def _l_entry(n, a, e):
    (t, k), = a
    return (t if k == "s" else f"{atom(t)}[0]" if k in "cr" else f"{atom(t)}[0, 0]"), "s"


def _l_trace_of_product(n, a, e):
    (left, lk), (r, rk) = a
    if {lk, rk} == {"c", "r"}:
        return f"{atom(left)} @ {atom(r)}", "s"
    return f"{e.np}.sum({atom(as_2d(left, lk))} * {atom(as_2d(r, rk))}.T)", "s"


def _l_squared_norm(n, a, e):
    (t, k), = a
    if k == "s":
        return f"{atom(t)} * {atom(t)}", "s"
    if k in "cr":
        return f"{atom(t)} @ {atom(t)}", "s"
    return f"{e.np}.vdot({t}, {t})", "s"


def _l_solve(n, a, e):
    (m, mk), (b, bk) = a
    if bk in "cm":
        return f"{e.np}.linalg.solve({as_2d(m, mk)}, {b})", bk
    return f"{e.np}.linalg.solve({as_2d(m, mk)}, {as_2d(b, bk)})", "m"


def _l_solve_right(n, a, e):
    (b, bk), (m, mk) = a
    if bk == "r":
        return f"{e.np}.linalg.solve({atom(as_2d(m, mk))}.T, {b})", "r"
    return (f"{e.np}.linalg.solve({atom(as_2d(m, mk))}.T, {atom(as_2d(b, bk))}.T).T",
            "m")


def _l_weighted_gram(n, a, e):
    (b, bk), (w, wk) = a
    b, w = as_2d(b, bk), as_kind(w, wk, "c")
    if n.nonneg:       # w ≥ 0 by construction (e.g. σ ⊙ (1 − σ)): syrk, no check
        return f"{e.helper('_gram')}({e.np}.sqrt({w})[:, None] * {atom(b)})", "m"
    return f"{e.helper('_weighted_gram')}({b}, {w})", "m"


def _l_inner(n, a, e):
    (left, lk), (r, rk) = a
    if lk == "s" or rk == "s":
        return f"{atom(left)} * {atom(r)}", "s"
    r = as_kind(r, rk, lk)
    if lk in "cr":
        return f"{atom(left)} @ {atom(r)}", "s"
    return f"{e.np}.vdot({left}, {r})", "s"


def _index(k, e, columns=False):
    """The permutation of K₍ₘ,ₙ₎ as an index: K M = M[p] and M K = M[:, q], q that of K₍ₙ,ₘ₎
    (K₍ₘ,ₙ₎⁻¹ = K₍ₙ,ₘ₎), so no mn×mn matrix is formed or multiplied."""
    m, n = (k.n, k.m) if columns else (k.m, k.n)
    return f"{e.helper('_commutation_index')}({e.dim(m)}, {e.dim(n)})"


def _l_permute_rows(n, a, e):
    _, (m, mk) = a
    if mk in "cm":
        return f"{atom(m)}[{_index(n.k, e)}]", mk
    return f"{atom(as_2d(m, mk))}[{_index(n.k, e)}]", "m"


def _l_permute_cols(n, a, e):
    (m, mk), _ = a
    if mk == "r":
        return f"{atom(m)}[{_index(n.k, e, True)}]", "r"
    return f"{atom(as_2d(m, mk))}[:, {_index(n.k, e, True)}]", "m"


def _l_kron(n, a, e):
    (x, xk), (y, yk) = a
    if xk == yk and xk in "cr":             # two columns (or rows): a 1-D kron
        return f"{e.np}.kron({x}, {y})", xk
    if "s" in (xk, yk):
        return RULES[Kron](n, [as_2d(x, xk), as_2d(y, yk)], e), "m"
    return f"{e.np}.kron({as_2d(x, xk)}, {as_2d(y, yk)})", "m"


def _l_sum(n, a, e):
    (t, k), = a
    return (f"{e.np}.sum({t})" if k == "s" else f"{atom(t)}.sum()"), "s"


def _l_diag_mat(n, a, e):
    (t, k), = a
    if k in "cr":
        return f"{e.np}.diag({t})", "m"
    return f"{e.np}.diag({atom(t)}.reshape(-1))", "m"


def _l_diag_vec(n, a, e):
    (t, k), = a
    return f"{e.np}.diag({as_2d(t, k)})", "c"


def _l_vec(n, a, e):
    (t, k), = a
    if k in "cr":
        return t, "c"
    if k == "s":
        return f"{e.np}.reshape({t}, (1,))", "c"
    return f"{atom(t)}.T.reshape(-1)", "c"


def _l_filled(fill):
    def rule(n, a, e):
        kind = kind_of(n.shape_)
        if kind in "cr":
            return f"{e.np}.{fill}({e.dim(n.shape_[0] if kind == 'c' else n.shape_[1])})", kind
        return (RULES[Zero] if fill == "zeros" else RULES[Ones])(n, [], e), \
            ("s" if n.shape_ == () else "m")
    return rule


def _keeps(rule):
    """An entrywise rule: the result has the argument's layout."""
    def keep(n, a, e):
        (t, k), = a
        return rule(n, [t], e), k
    return keep


HELPERS = {
    "_bound": '''def _bound(dims):
    return " (" + ", ".join(f"{d} = {v}" for d, v in dims.items()) + ")" if dims else ""
''',
    "_from_differential": '''def _from_differential(dF, f_shape, x_shape):
    """The derivative tensor (F.shape + X.shape) from dF, linear in dX: dF(E_kl) = ∂F/∂X_kl."""
    size = 1
    for d in x_shape:
        size *= d
    basis = np.eye(size).reshape((size,) + x_shape)
    columns = np.stack([np.broadcast_to(dF(e), f_shape) for e in basis], axis=-1)
    return columns.reshape(f_shape + x_shape)
''',
    "_softmax": '''def _softmax(u):
    e = np.exp(u - u.max())
    return e / e.sum()
''',
    "_logsumexp": '''def _logsumexp(u):
    top = u.max()
    return top + np.log(np.exp(u - top).sum())
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
    "_commutation_index": '''def _commutation_index(m, n):
    """p with K v = v[p] for K = K₍ₘ,ₙ₎ (K vec(X) = vec(Xᵀ), X m×n, column-major vec)."""
    return np.arange(m * n).reshape(n, m).T.reshape(-1)
''',
    "_weighted_gram": '''def _weighted_gram(b, w):
    """bᵀ diag(w) b for a 1-D w: a syrk through √w ⊙ b when w ≥ 0, else one product."""
    if np.all(w >= 0):
        c = np.sqrt(w)[:, None] * b
        return c.T @ c
    return b.T @ (w[:, None] * b)
''',
    "_gram": '''def _gram(c):
    """cᵀc (BLAS syrk: NumPy sees the transpose of the same array)."""
    return c.T @ c
''',
}

LAYOUT_RULES = {
    Add: _l_add,
    Mul: _l_mul,
    Hadamard: _entrywise(lambda a, n, e: " * ".join(atom(x) for x in a)),
    ElemDiv: _entrywise(lambda a, n, e: f"{atom(a[0])} / {atom(a[1])}"),
    ElemPower: _entrywise(lambda a, n, e: f"{e.np}.power({a[0]}, {a[1]})"),
    Transpose: _l_transpose,
    Func: _keeps(_func),
    Softmax: _keeps(RULES[Softmax]),
    Sum: _l_sum,
    Norm: lambda n, a, e: (f"{e.np}.linalg.norm({a[0][0]})", "s"),
    LogSumExp: lambda n, a, e: (f"{e.helper('_logsumexp')}({a[0][0]})", "s"),
    DiagMat: _l_diag_mat,
    DiagVec: _l_diag_vec,
    Vec: _l_vec,
    Ones: _l_filled("ones"),
    Zero: _l_filled("zeros"),
    MatMul: _l_matmul,
    ScaleRows: _l_scale_rows,
    ScaleCols: _l_scale_cols,
    Solve: _l_solve,
    SolveRight: _l_solve_right,
    WeightedGram: _l_weighted_gram,
    Entry: _l_entry,
    TraceOfProduct: _l_trace_of_product,
    SquaredNorm: _l_squared_norm,
    Inner: _l_inner,
    Kron: _l_kron,
    PermuteRows: _l_permute_rows,
    PermuteCols: _l_permute_cols,
}

BACKEND = Backend(name="numpy", rules=RULES, layout_rules=LAYOUT_RULES, imports="import numpy as np", helpers=HELPERS,
                  array="np.asarray({x}, dtype=float)", np="np", elementwise=ELEMENTWISE)
