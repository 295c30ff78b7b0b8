"""Planning generated code: a cost model, matrix-chain order, and rewrites that make the
emitted code fast (backend-neutral; the emitters in numpy.py / jax.py only spell nodes).

``lower(outputs, sizes)`` turns simplified expressions into a DAG of the same nodes plus a
few codegen-only operations defined here (binary products with a chosen order, diagonal
scalings, solves, weighted Gram products, ...).  Equal subtrees are one node, so every
shared subexpression is computed once (the emitter names the ones used twice).

Sizes: the actual dimensions of a call signature (``{'n': 1000}``) when known, otherwise
NOMINAL for every named dimension, so the order still puts products against vectors first.

Cost unit: one flop; a pass over an array costs MEMORY per element (reading or writing
memory is slower than a fused multiply-add inside a BLAS kernel).
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property

from ..core.nodes import (
    Add,
    Const,
    DiagMat,
    Expr,
    Func,
    Hadamard,
    Identity,
    Inverse,
    Mul,
    Norm,
    Power,
    Trace,
    Transpose,
    _node,
    _SPAN,
    walk,
)

NOMINAL = 1000
MEMORY = 4.0


# ----- codegen-only operations (their shape is stored, not inferred) ------------------

class Op(Expr):
    """Base of the operations the plan introduces; ``shape_`` is set by the planner."""

    @cached_property
    def shape(self):
        return self.shape_


@_node
class MatMul(Op):
    """left @ right, in the order the chain cost chose."""
    left: Expr
    right: Expr
    shape_: tuple = ()
    span: tuple[int, int] | None = _SPAN


@_node
class ScaleRows(Op):
    """diag(v) M without forming diag(v): v ⊙ M row by row."""
    v: Expr
    m: Expr
    shape_: tuple = ()
    span: tuple[int, int] | None = _SPAN


@_node
class ScaleCols(Op):
    """M diag(v): M ⊙ vᵀ column by column."""
    m: Expr
    v: Expr
    shape_: tuple = ()
    span: tuple[int, int] | None = _SPAN


@_node
class Solve(Op):
    """A⁻¹B as a solve (the inverse is applied once)."""
    a: Expr
    b: Expr
    shape_: tuple = ()
    span: tuple[int, int] | None = _SPAN


@_node
class SolveRight(Op):
    """B A⁻¹ = (A⁻ᵀ Bᵀ)ᵀ as a solve."""
    b: Expr
    a: Expr
    shape_: tuple = ()
    span: tuple[int, int] | None = _SPAN


@_node
class WeightedGram(Op):
    """Bᵀ diag(w) B (syrk through √w ⊙ B when w ≥ 0)."""
    b: Expr
    w: Expr
    shape_: tuple = ()
    span: tuple[int, int] | None = _SPAN


@_node
class Entry(Op):
    """The single entry of a 1×1 product, as a scalar."""
    arg: Expr
    shape_: tuple = ()
    span: tuple[int, int] | None = _SPAN


@_node
class TraceOfProduct(Op):
    """tr(LR) = sum(L ⊙ Rᵀ), without forming LR."""
    left: Expr
    right: Expr
    shape_: tuple = ()
    span: tuple[int, int] | None = _SPAN


@_node
class SquaredNorm(Op):
    """‖r‖² as one dot product, without the square root."""
    arg: Expr
    shape_: tuple = ()
    span: tuple[int, int] | None = _SPAN


OPS = (MatMul, ScaleRows, ScaleCols, Solve, SolveRight, WeightedGram, Entry,
       TraceOfProduct, SquaredNorm)


# ----- sizes and costs -----------------------------------------------------------------

def size(d, sizes: dict) -> int:
    if isinstance(d, int):
        return d
    total = 1
    for part in str(d).split("·"):
        total *= int(part) if part.isdigit() else sizes.get(part, NOMINAL)
    return total


def dims(shape, sizes) -> tuple[int, int]:
    return (1, 1) if shape == () else (size(shape[0], sizes), size(shape[1], sizes))


@dataclass(frozen=True)
class Operand:
    """One factor of a matrix chain: kind 'dense', 'diag' (diag(v), v kept) or 'inv'
    (A⁻¹ applied once, A kept)."""
    node: Expr
    kind: str
    rows: int
    cols: int


def product_cost(a: Operand, b: Operand) -> float:
    m, k, n = a.rows, a.cols, b.cols
    if a.kind == "diag" or b.kind == "diag":
        return MEMORY * m * n
    if a.kind == "inv":
        return 2 * k ** 3 / 3 + 2 * k * k * n + MEMORY * k * k
    if b.kind == "inv":
        return 2 * k ** 3 / 3 + 2 * k * k * m + MEMORY * k * k
    return 2.0 * m * k * n


def chain_order(ops: list[Operand]):
    """Optimal parenthesisation (classic O(k³) dynamic programme) → (cost, tree)."""
    k = len(ops)
    best: dict[tuple[int, int], tuple[float, object, Operand]] = {}
    for i, op in enumerate(ops):
        best[i, i] = (0.0, i, op)
    for length in range(2, k + 1):
        for i in range(0, k - length + 1):
            j = i + length - 1
            choice = None
            for s in range(i, j):
                cl, tl, ol = best[i, s]
                cr, tr, orr = best[s + 1, j]
                if ol.kind == "inv" and orr.kind == "inv":
                    continue
                cost = cl + cr + product_cost(ol, orr)
                if choice is None or cost < choice[0]:
                    kind = "diag" if ol.kind == orr.kind == "diag" else "dense"
                    choice = (cost, (tl, tr), Operand(None, kind, ol.rows, orr.cols))
            if choice is None:   # only adjacent inverses: materialise the left one
                raise _AdjacentInverses()
            best[i, j] = choice
    return best[0, k - 1][0], best[0, k - 1][1]


class _AdjacentInverses(Exception):
    pass


# ----- lowering ------------------------------------------------------------------------

def parents(outputs) -> dict:
    """How many distinct parents use each node (over all outputs)."""
    count: dict = {}
    seen = set()
    for out in outputs:
        for node in walk(out):
            if id(node) in seen:
                continue
            seen.add(id(node))
            for kid in set(node.children()):
                count[kid] = count.get(kid, 0) + 1
    return count


def _inverse_in(e: Expr):
    if isinstance(e, Inverse):
        return e
    if isinstance(e, Transpose) and isinstance(e.arg, Inverse):
        return e.arg
    return None


def solvable_inverses(outputs) -> set:
    """Inverses only ever applied to something inside matrix chains (at most twice): each
    use becomes a solve (an LU each, 2/3 n³) instead of forming the inverse (2 n³)."""
    in_chains: dict = {}
    formed = set()
    seen = set()
    for out in outputs:
        if _inverse_in(out) is not None:
            formed.add(_inverse_in(out))
        for node in walk(out):
            if id(node) in seen:
                continue
            seen.add(id(node))
            chain = isinstance(node, Mul) and sum(f.shape != () for f in node.factors) > 1
            for kid in node.children():
                inv = _inverse_in(kid)
                if inv is None or (kid is inv and isinstance(node, Transpose)):
                    continue
                if chain:
                    in_chains[inv] = in_chains.get(inv, 0) + 1
                else:
                    formed.add(inv)
    return {inv for inv, k in in_chains.items() if k <= 2 and inv not in formed}


class Planner:
    def __init__(self, outputs, sizes: dict | None):
        self.sizes = sizes or {}
        self.uses = parents(outputs)
        self.solvable = solvable_inverses(outputs)
        self.memo: dict = {}

    def dims(self, e: Expr):
        return dims(e.shape, self.sizes)

    def lower(self, e: Expr) -> Expr:
        out = self.memo.get(e)
        if out is None:
            out = self._lower(e)
            self.memo[e] = out
        return out

    def _lower(self, e: Expr) -> Expr:
        if isinstance(e, Mul):
            return self.product(list(e.factors), e.shape)
        if isinstance(e, Power) and isinstance(e.base, Norm) and e.exponent == 2:
            return SquaredNorm(self.lower(e.base.arg), shape_=())
        if isinstance(e, Trace) and isinstance(e.arg, Mul):
            return self.trace_of_product(e.arg)
        if isinstance(e, Func) and e.name == "log" and _one_plus_exp(e.arg) is not None:
            return Func("softplus", self.lower(_one_plus_exp(e.arg)))
        kids = e.children()
        if not kids:
            return e
        new = tuple(self.lower(k) for k in kids)
        if all(a is b for a, b in zip(new, kids)):
            return e
        node = e.rebuild(new)
        if "shape" not in node.__dict__ and not isinstance(node, Op):
            node.__dict__["shape"] = e.shape   # children may be Ops: keep the known shape
        return node

    # products --------------------------------------------------------------------------

    def product(self, factors: list[Expr], shape) -> Expr:
        scalars = [f for f in factors if f.shape == ()]
        chain = [f for f in factors if f.shape != ()]
        chain = [f for f in chain if not isinstance(f, Identity)] or chain[:1]
        lowered = [self.lower(s) for s in scalars]
        if chain:
            matrix = self.chain(self.distribute(chain))
            if shape == () and matrix.shape != ():
                matrix = Entry(matrix, shape_=())
            lowered.append(matrix)
        if len(lowered) == 1:
            return lowered[0]
        node = Mul(tuple(lowered))
        node.__dict__["shape"] = shape
        return node

    def distribute(self, chain: list[Expr]) -> list[Expr]:
        """(A + B)R → AR + BR when R is thin enough that forming A + B costs more than
        the extra products (A@x + Aᵀ@x beats (A + Aᵀ)@x; (A + Aᵀ)@X wins for a wide X)."""
        for i, f in enumerate(chain):
            if not (isinstance(f, Add) and self.uses.get(f, 0) <= 1 and
                    all(t.shape != () for t in f.terms)):
                continue
            t = len(f.terms)
            m, n = self.dims(f)
            for side in ("right", "left"):
                rest = chain[i + 1:] if side == "right" else chain[:i]
                if not rest:
                    continue
                r = rest[0] if len(rest) == 1 else _mul(rest)
                k = self.dims(r)[1] if side == "right" else self.dims(r)[0]
                formed = MEMORY * (t + 1) * m * n + 2.0 * m * n * k
                spread = 2.0 * t * m * n * k + MEMORY * (t - 1) * (m if side == "right" else n) * k
                if spread < formed:
                    terms = tuple(_mul(_factors(term) + [r]) if side == "right" else
                                  _mul([r] + _factors(term)) for term in f.terms)
                    summed = Add(terms)
                    return (chain[:i] + [summed]) if side == "right" else [summed] + chain[i + 1:]
        return chain

    def chain(self, chain: list[Expr]) -> Expr:
        if len(chain) == 3 and isinstance(chain[0], Transpose) and \
                isinstance(chain[1], DiagMat) and chain[0].arg == chain[2]:
            b = self.lower(chain[2])
            return WeightedGram(b, self.lower(chain[1].arg), shape_=_shape(chain[0], chain[2]))
        ops = []
        for j, f in enumerate(chain):
            rows, cols = self.dims(f)
            if isinstance(f, DiagMat) and len(chain) > 1:
                ops.append(Operand(self.lower(f.arg), "diag", rows, cols))
            elif len(chain) > 1 and _inverse_in(f) in self.solvable:
                inner = f.arg if isinstance(f, Inverse) else Transpose(f.arg.arg)
                ops.append(Operand(self.lower(inner), "inv", rows, cols))
            else:
                ops.append(Operand(self.lower(f), "dense", rows, cols))
        for j in range(1, len(ops)):   # two inverses side by side: keep the left one
            if ops[j - 1].kind == ops[j].kind == "inv":
                ops[j - 1] = Operand(self.lower(chain[j - 1]), "dense", ops[j - 1].rows,
                                     ops[j - 1].cols)
        _, tree = chain_order(ops)
        out = self.build(tree, ops, chain)
        if isinstance(out, tuple):          # diag(a) diag(b) = diag(a ⊙ b)
            out = DiagMat(out[1])
            out.__dict__["shape"] = (out.arg.shape[0], out.arg.shape[0])
        return out

    def build(self, tree, ops, chain):
        if isinstance(tree, int):
            op = ops[tree]
            if op.kind == "dense":
                return op.node
            return self.lower(chain[tree])     # a lone diag or inverse: as written
        lt, rt = tree
        left, lop = self._side(lt, ops, chain)
        right, rop = self._side(rt, ops, chain)
        shape = (lop[0], rop[1])
        if lop[2] == "diag" and rop[2] == "diag":
            node = Hadamard((left, right))
            node.__dict__["shape"] = (lop[0], 1)
            return ("diag", node)
        if lop[2] == "diag":
            return ScaleRows(left, right, shape_=shape)
        if rop[2] == "diag":
            return ScaleCols(left, right, shape_=shape)
        if lop[2] == "inv":
            return Solve(left, right, shape_=shape)
        if rop[2] == "inv":
            return SolveRight(left, right, shape_=shape)
        return MatMul(left, right, shape_=shape)

    def _side(self, tree, ops, chain):
        """(node, (rows, cols, kind)) of one side; a diag or inverse leaf stays symbolic."""
        if isinstance(tree, int):
            op = ops[tree]
            f = chain[tree]
            return op.node, (f.shape[0], f.shape[1], op.kind)
        sub = self.build(tree, ops, chain)
        if isinstance(sub, tuple):       # diag · diag stays a diagonal
            return sub[1], (sub[1].shape[0], sub[1].shape[0], "diag")
        return sub, (sub.shape[0], sub.shape[1], "dense")

    def trace_of_product(self, m: Mul) -> Expr:
        scalars = [f for f in m.factors if f.shape == ()]
        chain = [f for f in m.factors if f.shape != ()]
        if len(chain) < 2 or any(isinstance(f, (DiagMat, Inverse)) for f in chain):
            return Trace(self.lower(m))
        best = None
        for k in range(1, len(chain)):
            left, right = chain[:k], chain[k:]
            cost = sum(self._chain_cost(part) for part in (left, right))
            if best is None or cost < best[0]:
                best = (cost, left, right)
        _, left, right = best
        node = TraceOfProduct(self.lower(_mul(left)), self.lower(_mul(right)), shape_=())
        if not scalars:
            return node
        out = Mul(tuple(self.lower(s) for s in scalars) + (node,))
        out.__dict__["shape"] = ()
        return out

    def _chain_cost(self, part):
        if len(part) == 1:
            return 0.0
        return chain_order([Operand(f, "dense", *self.dims(f)) for f in part])[0]


def _shape(a: Expr, b: Expr):
    return (a.shape[0], b.shape[1])


def _factors(e: Expr) -> list[Expr]:
    return list(e.factors) if isinstance(e, Mul) else [e]


def _mul(factors: list[Expr]) -> Expr:
    return factors[0] if len(factors) == 1 else Mul(tuple(factors))


def _one_plus_exp(e: Expr):
    """u when e is 1 + exp(u) (in either order), else None: log(1 + exp(u)) = softplus(u)."""
    if isinstance(e, Add) and len(e.terms) == 2:
        for one, ex in (e.terms, e.terms[::-1]):
            if isinstance(one, Const) and one.value == Fraction(1) and \
                    isinstance(ex, Func) and ex.name == "exp":
                return ex.arg
    return None


def lower(outputs: list[Expr], sizes: dict | None = None) -> list[Expr]:
    """The planned DAG of every output (shared nodes shared across outputs too)."""
    planner = Planner(outputs, sizes)
    return [planner.lower(o) for o in outputs]
