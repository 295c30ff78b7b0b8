"""The expression tree: small immutable nodes that hold data only.

Every node is a frozen dataclass.  Equality is structural and the hash is cached, so
identical subtrees can be shared (a DAG) and stages can memoise on nodes.  A node's
``span`` (where it came from in the source) takes no part in equality.

Shapes: ``()`` is a scalar, ``(rows, cols)`` a matrix; a column vector is ``(n, 1)``.
Dimensions are ``int`` or a dimension name (``str``).  ``node.shape`` is computed by the
shape rules in :mod:`matdiff.core.shapes` (after :func:`matdiff.core.shapes.infer` has given every
Symbol its shape).

Invariants kept by the constructors in :mod:`matdiff.simplify` (not by these classes):
``Add.terms`` and ``Mul.factors`` are flat; a scalar-valued product is never flattened into
a matrix chain (it stays one factor), because ``X (aᵀb)`` is not the chain ``X aᵀ b``.
"""
from __future__ import annotations

import sys
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from fractions import Fraction
from functools import cached_property, wraps
from typing import Any, Callable, Iterator

Dim = int | str
Shape = tuple


def dim_product(*dims) -> Dim:
    """The dimension of a vec or Kronecker product: ints multiply, names join as 'm·n'."""
    number, names = 1, []
    for d in dims:
        for part in (d.split("·") if isinstance(d, str) else (d,)):
            if isinstance(part, int) or part.isdigit():
                number *= int(part)
            else:
                names.append(part)
    if not names:
        return number
    return "·".join(([str(number)] if number != 1 else []) + sorted(names))


# Later stages register themselves here ("shape" by core.shapes, "text" and "pretty" by
# language.render), so that nodes stay data: they import no stage and know no printing.
STAGES: dict[str, Callable] = {}


class Expr:
    """Base of all nodes."""

    span: tuple[int, int] | None
    notes = ()   # the guesses that decided the reading (set on a parsed root by api.parse)

    @classmethod
    def _compare_names(cls) -> tuple[str, ...]:
        names = cls.__dict__.get("_names")
        if names is None:
            names = tuple(f.name for f in fields(cls) if f.name != "span")
            cls._names = names
        return names

    def key(self) -> tuple:
        k = self.__dict__.get("_key")
        if k is None:
            k = tuple(getattr(self, n) for n in self._compare_names())
            object.__setattr__(self, "_key", k)
        return k

    def __hash__(self) -> int:
        h = self.__dict__.get("_hash")
        if h is None:
            h = hash((type(self).__name__, self.key()))
            object.__setattr__(self, "_hash", h)
        return h

    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        if type(self) is not type(other) or hash(self) != hash(other):
            return False
        deep = False
        for u, v in zip(self.key(), other.key()):   # shallow first: shared children
            if u is v:
                continue
            if isinstance(u, Expr) or (isinstance(u, tuple) and u and isinstance(u[0], Expr)):
                deep = True
            elif u != v:
                return False
        return not deep or _same_structure(self, other)

    def children(self) -> tuple["Expr", ...]:
        kids = self.__dict__.get("_kids")
        if kids is None:
            out: list[Expr] = []
            for value in self.key():
                if isinstance(value, Expr):
                    out.append(value)
                elif isinstance(value, tuple) and value and isinstance(value[0], Expr):
                    out.extend(value)
            kids = tuple(out)
            object.__setattr__(self, "_kids", kids)
        return kids

    def rebuild(self, kids: Iterator["Expr"] | tuple["Expr", ...]) -> "Expr":
        """The same node over new children (in the order of ``children()``)."""
        it = iter(kids)
        values = []
        for value in self.key():
            if isinstance(value, Expr):
                values.append(next(it))
            elif isinstance(value, tuple) and value and isinstance(value[0], Expr):
                values.append(tuple(next(it) for _ in value))
            else:
                values.append(value)
        return type(self)(*values, span=self.span)

    @cached_property
    def shape(self) -> Shape:
        return STAGES["shape"](self)

    def evaluate(self, values: dict):
        """The value at the given symbol values (a typed tree, e.g. from ``parse``): a float,
        a 1-D vector or a 2-D matrix, as ``Derivative.evaluate``."""
        return STAGES["evaluate"](self, values)

    @property
    def is_scalar(self) -> bool:
        return self.shape == ()

    def __str__(self) -> str:
        printer = STAGES.get("text")
        return printer(self) if printer else repr(self)

    def _repr_latex_(self) -> str | None:
        """Jupyter shows the expression typeset (printer registered by language.render)."""
        printer = STAGES.get("latex")
        return f"${printer(self)}$" if printer else None

    def __repr__(self) -> str:
        args = ", ".join(repr(v) for v in self.key())
        return f"{type(self).__name__}({args})"


def _same_structure(a: Expr, b: Expr) -> bool:
    """Structural equality without recursion, each pair of shared subtrees compared once
    (so comparing two copies of a deep DAG is linear in its size, not in its tree)."""
    stack, seen = [(a, b)], set()
    while stack:
        x, y = stack.pop()
        if x is y or (id(x), id(y)) in seen:
            continue
        if type(x) is not type(y) or hash(x) != hash(y):
            return False
        seen.add((id(x), id(y)))
        for u, v in zip(x.key(), y.key()):
            if isinstance(u, Expr):
                stack.append((u, v))
            elif isinstance(u, tuple) and u and isinstance(u[0], Expr):
                if not isinstance(v, tuple) or len(u) != len(v):
                    return False
                stack.extend(zip(u, v))
            elif u != v:
                return False
    return True


def memo_on_node(fn: Callable[["Expr"], Any]) -> Callable[["Expr"], Any]:
    """Memoise a function of one node on the node itself (nodes are immutable).

    Not a global cache keyed by the node: looking up a key equal to, but not the same
    object as, one cached from an earlier call compares both trees, which made deep
    expressions quadratic in a long-running process (and kept every tree alive)."""
    slot = f"_memo_{fn.__module__}.{fn.__qualname__}"

    @wraps(fn)
    def memoised(e: "Expr"):
        cached = e.__dict__.get(slot, _MISSING)
        if cached is _MISSING:
            cached = fn(e)
            object.__setattr__(e, slot, cached)
        return cached
    return memoised


_MISSING = object()


def _node(cls):
    return dataclass(frozen=True, eq=False, repr=False)(cls)


_SPAN = field(default=None, kw_only=True, compare=False)


# ----- leaves -------------------------------------------------------------------------

@_node
class Symbol(Expr):
    """A named scalar, vector or matrix; ``shape`` is None until shapes are inferred."""
    name: str
    shape_: Shape | None = None
    symmetric: bool = False
    probability: bool = False   # a probability vector: entries ≥ 0 that sum to 1
    span: tuple[int, int] | None = _SPAN


@_node
class Const(Expr):
    """An exact scalar number."""
    value: Fraction
    span: tuple[int, int] | None = _SPAN


@_node
class Identity(Expr):
    """The n×n identity matrix I."""
    n: Dim | None = None
    span: tuple[int, int] | None = _SPAN


@_node
class Zero(Expr):
    """The zero scalar, vector or matrix of a shape."""
    shape_: Shape = ()
    span: tuple[int, int] | None = _SPAN


@_node
class Ones(Expr):
    """The all-ones vector 𝟏 (n×1) or matrix 𝟏𝟏ᵀ (m×n)."""
    shape_: Shape | None = None
    span: tuple[int, int] | None = _SPAN


@_node
class DimSize(Expr):
    """A dimension used as a number, e.g. tr(I) = n."""
    dim: Dim
    span: tuple[int, int] | None = _SPAN


@_node
class Differential(Expr):
    """dX: the differential of a symbol (a leaf of differential forms)."""
    of: Symbol
    span: tuple[int, int] | None = _SPAN


# ----- n-ary operations -------------------------------------------------------------

@_node
class Add(Expr):
    """Sum of terms; a scalar term added to a matrix broadcasts entrywise."""
    terms: tuple[Expr, ...]
    span: tuple[int, int] | None = _SPAN


@_node
class Mul(Expr):
    """Product: scalar factors commute, the others form a matrix chain in order."""
    factors: tuple[Expr, ...]
    span: tuple[int, int] | None = _SPAN


@_node
class Hadamard(Expr):
    """Entrywise product A ⊙ B ⊙ … of equal shapes."""
    factors: tuple[Expr, ...]
    span: tuple[int, int] | None = _SPAN


# ----- binary and unary operations -------------------------------------------------

@_node
class ElemDiv(Expr):
    """Entrywise division A ./ B (a scalar side broadcasts)."""
    num: Expr
    den: Expr
    span: tuple[int, int] | None = _SPAN


@_node
class Power(Expr):
    """X^k: matrix power (square X, integer k) or a power of a scalar."""
    base: Expr
    exponent: Fraction
    span: tuple[int, int] | None = _SPAN


@_node
class Transpose(Expr):
    """Xᵀ."""
    arg: Expr
    span: tuple[int, int] | None = _SPAN


@_node
class Inverse(Expr):
    """X⁻¹ of a square matrix."""
    arg: Expr
    span: tuple[int, int] | None = _SPAN


@_node
class Trace(Expr):
    """tr(X) of a square matrix."""
    arg: Expr
    span: tuple[int, int] | None = _SPAN


@_node
class Det(Expr):
    """det(X) of a square matrix."""
    arg: Expr
    span: tuple[int, int] | None = _SPAN


@_node
class LogDet(Expr):
    """logdet(X) = log det X."""
    arg: Expr
    span: tuple[int, int] | None = _SPAN


@_node
class Func(Expr):
    """An elementwise function (exp, log, sin, cos, tanh, sigmoid, sqrt) applied entrywise."""
    name: str
    arg: Expr
    span: tuple[int, int] | None = _SPAN


@_node
class Sum(Expr):
    """sum(X): the sum of all entries."""
    arg: Expr
    span: tuple[int, int] | None = _SPAN


@_node
class DiagMat(Expr):
    """diag(v): the diagonal matrix with the vector v on its diagonal."""
    arg: Expr
    span: tuple[int, int] | None = _SPAN


@_node
class DiagVec(Expr):
    """diag(X): the vector of the diagonal of a square matrix."""
    arg: Expr
    span: tuple[int, int] | None = _SPAN


@_node
class Norm(Expr):
    """‖x‖ (Euclidean, kind '2') or ‖X‖_F (Frobenius, kind 'F')."""
    arg: Expr
    kind: str = "2"
    span: tuple[int, int] | None = _SPAN


@_node
class Softmax(Expr):
    """softmax(u) = exp(u) / 𝟏ᵀexp(u), of a column vector."""
    arg: Expr
    span: tuple[int, int] | None = _SPAN


@_node
class LogSumExp(Expr):
    """logsumexp(u) = log 𝟏ᵀexp(u), of a column vector."""
    arg: Expr
    span: tuple[int, int] | None = _SPAN


@_node
class Kron(Expr):
    """A ⊗ B, the Kronecker product (output-only: vec/Kronecker forms of derivatives)."""
    left: Expr
    right: Expr
    span: tuple[int, int] | None = _SPAN


@_node
class Commutation(Expr):
    """K₍ₘ,ₙ₎: the mn×mn permutation with K vec(X) = vec(Xᵀ) for an m×n X."""
    m: Dim
    n: Dim
    span: tuple[int, int] | None = _SPAN


@_node
class Vec(Expr):
    """vec(X): the columns of X stacked (column-major)."""
    arg: Expr
    span: tuple[int, int] | None = _SPAN


@_node
class ElemPower(Expr):
    """U.^p: every entry of U to the scalar power p (an expression: x.^2, x.^α, a^b)."""
    base: Expr
    exponent: Expr
    span: tuple[int, int] | None = _SPAN


@_node
class SoftmaxRows(Expr):
    """softmax of each row of a matrix: S_ij = exp(X_ij) / Σ_k exp(X_ik) (attention)."""
    arg: Expr
    span: tuple[int, int] | None = _SPAN


@_node
class LogSumExpRows(Expr):
    """logsumexp of each row of an m×n matrix: the m×1 vector log(exp(X) 𝟏)."""
    arg: Expr
    span: tuple[int, int] | None = _SPAN


@_node
class Mean(Expr):
    """Surface-only mean(X): becomes sum(X)/(number of entries) once the shape is known."""
    arg: Expr
    span: tuple[int, int] | None = _SPAN


@_node
class LogSoftmax(Expr):
    """Surface-only log_softmax(u): becomes u − logsumexp(u) (row-wise for a matrix)."""
    arg: Expr
    span: tuple[int, int] | None = _SPAN


@_node
class Diag(Expr):
    """Surface-only diag(·): becomes DiagMat or DiagVec once the argument's shape is known."""
    arg: Expr
    span: tuple[int, int] | None = _SPAN


@_node
class Div(Expr):
    """Surface-only a / b: becomes a Mul by b⁻¹ once b is known to be a scalar."""
    num: Expr
    den: Expr
    span: tuple[int, int] | None = _SPAN


ELEMENTWISE = ("exp", "log", "sin", "cos", "tanh", "sigmoid", "sqrt", "tan", "arcsin",
               "arccos", "arctan", "relu", "softplus", "abs", "sign", "step")
# Not differentiable at 0: relu, abs, sign, step (the verifier samples away from 0).
KINKED = ("relu", "abs", "sign", "step")

NODES = (Symbol, Const, Identity, Zero, Ones, DimSize, Differential, Add, Mul, Hadamard,
         ElemDiv, Power, Transpose, Inverse, Trace, Det, LogDet, Func, Sum, DiagMat,
         DiagVec, Norm, Softmax, LogSumExp, Kron, Commutation, Vec, ElemPower, SoftmaxRows,
         LogSumExpRows)

ONE = Const(Fraction(1))
MINUS_ONE = Const(Fraction(-1))
ZERO_SCALAR = Zero(())


MAX_DEPTH = 20_000


@contextmanager
def deep_recursion():
    """Let the recursive stages (shape inference, printing) follow expressions nested
    as deep as the parser accepts; a RecursionError beyond that becomes a MatdiffError."""
    from .errors import MatdiffError
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old, MAX_DEPTH))
    try:
        yield
    except RecursionError:
        raise MatdiffError("the expression is nested too deeply") from None
    finally:
        sys.setrecursionlimit(old)


def walk(e: Expr) -> Iterator[Expr]:
    """Every distinct node below e (each shared subtree once), children before parents."""
    seen: set[int] = set()
    stack = [(e, False)]
    while stack:
        node, done = stack.pop()
        if done:
            yield node
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        stack.extend((c, False) for c in reversed(node.children()))


def symbols_of(e: Expr) -> dict[str, Symbol]:
    """The symbols in e by name, in order of first appearance."""
    out: dict[str, Symbol] = {}
    for node in walk(e):
        if isinstance(node, Symbol):
            out.setdefault(node.name, node)
    return out
