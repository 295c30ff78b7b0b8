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
    Commutation,
    Const,
    DiagMat,
    DiagVec,
    ElemDiv,
    ElemPower,
    Expr,
    Func,
    Hadamard,
    Identity,
    Inverse,
    Kron,
    LogSumExp,
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
    _node,
    _SPAN,
    dim_product,
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
    """Bᵀ diag(w) B (syrk through √w ⊙ B when w ≥ 0; ``nonneg``: w ≥ 0 by construction)."""
    b: Expr
    w: Expr
    nonneg: bool = False
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


@_node
class PermuteRows(Op):
    """K M for a commutation matrix K = k: M's rows permuted (no K formed)."""
    k: Expr
    m: Expr
    shape_: tuple = ()
    span: tuple[int, int] | None = _SPAN


@_node
class PermuteCols(Op):
    """M K for a commutation matrix K = k: M's columns permuted (no K formed)."""
    m: Expr
    k: Expr
    shape_: tuple = ()
    span: tuple[int, int] | None = _SPAN


@_node
class Inner(Op):
    """⟨X, G⟩ = sum(X ⊙ G) as one dot product (x @ g for vectors)."""
    left: Expr
    right: Expr
    shape_: tuple = ()
    span: tuple[int, int] | None = _SPAN


OPS = (MatMul, ScaleRows, ScaleCols, Solve, SolveRight, WeightedGram, Entry,
       TraceOfProduct, SquaredNorm, Inner, PermuteRows, PermuteCols)


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
    if a.kind in ("diag", "perm") or b.kind in ("diag", "perm"):
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
                if ol.kind == orr.kind and ol.kind in ("inv", "perm"):
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
        # softmax(u) whose log is taken somewhere: both become u − logsumexp(u), shared
        self.log_softmax = {n.arg.arg for o in outputs for n in walk(o)
                            if isinstance(n, Func) and n.name == "log" and
                            isinstance(n.arg, Softmax)}
        # σ(u) where softplus(u) = log(1 + eᵘ) is computed anyway: σ(u) = exp(u − softplus(u))
        self.softplus = {u for o in outputs for n in walk(o)
                         if isinstance(n, Func) and (u := _softplus_arg(n)) is not None}

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
        if isinstance(e, Add) and diagonal(e) is not None:     # one diag of the sum
            return _shaped(DiagMat(self.lower(diagonal(e))), e.shape)
        if _softplus_arg(e) is not None:
            return _shaped(Func("softplus", self.lower(_softplus_arg(e))), e.shape)
        if isinstance(e, Func) and e.name == "sigmoid" and e.arg in self.softplus:
            u = self.lower(e.arg)
            minus = _shaped(Mul((Const(Fraction(-1)), self.lower(Func("softplus", e.arg)))),
                            e.shape)
            return _shaped(Func("exp", _shaped(Add((u, minus)), e.shape)), e.shape)
        if isinstance(e, Func) and e.name == "log" and isinstance(e.arg, Softmax):
            return self.log_softmax_of(e.arg.arg)           # log softmax(u) = u − lse(u)
        if isinstance(e, Softmax) and e.arg in self.log_softmax:
            return _shaped(Func("exp", self.log_softmax_of(e.arg)), e.shape)
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

    def log_softmax_of(self, u: Expr) -> Expr:
        key = ("log softmax", u)
        if key not in self.memo:
            lse = _shaped(LogSumExp(self.lower(u)), ())
            self.memo[key] = _shaped(Add((self.lower(u), _shaped(Mul((Const(Fraction(-1)),
                                                                       lse)), ()))), u.shape)
        return self.memo[key]

    # products --------------------------------------------------------------------------

    def product(self, factors: list[Expr], shape) -> Expr:
        scalars = [f for f in factors if f.shape == ()]
        chain = [f for f in factors if f.shape != ()]
        chain = [f for f in chain if not isinstance(f, Identity)] or chain[:1]
        chain = mixed_products(chain)
        lowered = [self.lower(s) for s in scalars]
        total = _sum_by_ones(chain) if shape == () else None
        if total is not None:                     # 𝟏ᵀv = vᵀ𝟏 = sum(v)
            chain = []
            lowered.append(_shaped(Sum(self.lower(total)), ()))
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
            w = chain[1].arg
            return WeightedGram(b, self.lower(w), nonneg=nonnegative(w),
                                shape_=_shape(chain[0], chain[2]))
        ops = []
        for j, f in enumerate(chain):
            rows, cols = self.dims(f)
            if diagonal(f) is not None and len(chain) > 1:
                ops.append(Operand(self.lower(diagonal(f)), "diag", rows, cols))
            elif isinstance(f, Commutation) and len(chain) > 1:
                ops.append(Operand(f, "perm", rows, cols))
            elif len(chain) > 1 and _inverse_in(f) in self.solvable:
                inner = f.arg if isinstance(f, Inverse) else Transpose(f.arg.arg)
                ops.append(Operand(self.lower(inner), "inv", rows, cols))
            else:
                ops.append(Operand(self.lower(f), "dense", rows, cols))
        for j in range(1, len(ops)):   # two inverses (or K) side by side: form the left one
            if ops[j - 1].kind == ops[j].kind and ops[j].kind in ("inv", "perm"):
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
        if lop[2] == "perm":
            return PermuteRows(left, right, shape_=shape)
        if rop[2] == "perm":
            return PermuteCols(left, right, shape_=shape)
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


def _shaped(node: Expr, shape) -> Expr:
    if not isinstance(node, Op):
        node.__dict__["shape"] = shape
    return node


def _sum_by_ones(chain: list[Expr]):
    """v when the chain is 𝟏ᵀv or vᵀ𝟏 (a vector v), else None."""
    if len(chain) != 2:
        return None
    a, b = chain
    if isinstance(a, Transpose) and isinstance(a.arg, Ones):
        return b
    if isinstance(b, Ones) and isinstance(a, Transpose):
        return a.arg
    return None


def _shape(a: Expr, b: Expr):
    return (a.shape[0], b.shape[1])


def _factors(e: Expr) -> list[Expr]:
    return list(e.factors) if isinstance(e, Mul) else [e]


def _mul(factors: list[Expr]) -> Expr:
    return factors[0] if len(factors) == 1 else Mul(tuple(factors))


POSITIVE_FUNCTIONS = ("exp", "sigmoid", "softplus", "relu", "abs", "sqrt", "step")


def nonnegative(e: Expr) -> bool:
    """Every entry of e is ≥ 0 by construction (a sound, incomplete sign analysis): the
    weights of σ's Hessian σ ⊙ (1 − σ), of softmax, exp, squares, ... so that a weighted
    Gram product needs no run-time check before its syrk form."""
    if isinstance(e, Const):
        return e.value >= 0
    if isinstance(e, (Ones, Identity, Zero, Softmax, SoftmaxRows)):
        return True
    if isinstance(e, Func):
        return e.name in POSITIVE_FUNCTIONS
    if isinstance(e, (Hadamard, Add)):
        parts = e.factors if isinstance(e, Hadamard) else e.terms
        return all(nonnegative(p) for p in parts) or \
            (isinstance(e, Add) and _one_minus_unit(e))
    if isinstance(e, Mul):
        scalars = all(f.shape == () for f in e.factors)
        return scalars and all(nonnegative(f) for f in e.factors)
    if isinstance(e, ElemDiv):
        return nonnegative(e.num) and nonnegative(e.den)
    if isinstance(e, (Transpose, Vec, DiagVec, DiagMat)):
        return nonnegative(e.arg)
    if isinstance(e, Power):
        return e.exponent.denominator == 1 and e.exponent.numerator % 2 == 0 and \
            e.base.shape == ()
    if isinstance(e, ElemPower):
        p = e.exponent
        return isinstance(p, Const) and p.value.denominator == 1 and p.value.numerator % 2 == 0
    return False


def _one_minus_unit(e: Add) -> bool:
    """1 − u with every entry of u in [0, 1] (σ, softmax): 1 − σ(z) ≥ 0."""
    if len(e.terms) != 2:
        return False
    for one, minus in (e.terms, e.terms[::-1]):
        if isinstance(one, (Const, Ones)) and (not isinstance(one, Const) or one.value >= 1) \
                and isinstance(minus, Mul) and len(minus.factors) == 2 and \
                isinstance(minus.factors[0], Const) and minus.factors[0].value == -1:
            u = minus.factors[1]
            if isinstance(u, Softmax) or (isinstance(u, Func) and u.name in ("sigmoid", "step")):
                return True
    return False


def mixed_products(chain: list[Expr]) -> list[Expr]:
    """(A ⊗ B)(C ⊗ D) = AC ⊗ BD, and with a column l (a row r): (l ⊗ I)M = l ⊗ M and
    M(r ⊗ I) = r ⊗ M (M = 1 ⊗ M), so that Kronecker products are multiplied factor by
    factor instead of as their large matrices: (x ⊗ I)D(xᵀ ⊗ I) becomes xxᵀ ⊗ D."""
    chain = list(chain)
    changed = True
    while changed and len(chain) > 1:
        changed = False
        for i in range(len(chain) - 1):
            a, b = chain[i], chain[i + 1]
            new = None
            if isinstance(a, Kron) and isinstance(b, Kron):
                if a.left.shape != () and b.left.shape != () and a.right.shape != () and \
                        b.right.shape != () and a.left.shape[1] == b.left.shape[0] and \
                        a.right.shape[1] == b.right.shape[0]:
                    new = _kron(_product([a.left, b.left]), _product([a.right, b.right]))
            elif isinstance(a, Kron) and isinstance(a.right, Identity) and \
                    a.left.shape != () and a.left.shape[1] == 1 and b.shape[0] == a.right.n:
                new = _kron(a.left, b)
            elif isinstance(b, Kron) and isinstance(b.right, Identity) and \
                    b.left.shape != () and b.left.shape[0] == 1 and a.shape[1] == b.right.n:
                new = _kron(b.left, a)
            if new is not None:
                chain[i:i + 2] = [new]
                changed = True
                break
    return chain


def _product(factors: list[Expr]) -> Expr:
    factors = [f for f in factors if not isinstance(f, Identity)] or factors[:1]
    if len(factors) == 1:
        return factors[0]
    return _shaped(Mul(tuple(factors)), (factors[0].shape[0], factors[-1].shape[1]))


def _kron(a: Expr, b: Expr) -> Expr:
    return _shaped(Kron(a, b), (dim_product(a.shape[0], b.shape[0]),
                                dim_product(a.shape[1], b.shape[1])))


def diagonal(e: Expr):
    """v when e is diag(v), c·diag(v) or a sum of such (diag(a) + diag(b) − diag(c) =
    diag(a + b − c)), so that no diagonal matrix is formed; else None."""
    if isinstance(e, DiagMat):
        return e.arg
    if isinstance(e, Mul) and isinstance(e.factors[-1], DiagMat) and \
            all(f.shape == () for f in e.factors[:-1]):
        v = e.factors[-1].arg
        return _shaped(Mul(e.factors[:-1] + (v,)), v.shape)
    if isinstance(e, Add) and all(t.shape != () for t in e.terms):
        parts = [diagonal(t) for t in e.terms]
        if None not in parts:
            return _shaped(Add(tuple(parts)), parts[0].shape)
    return None


def _softplus_arg(e: Expr):
    """u when e is log(1 + exp(u)) or softplus(u), else None."""
    if isinstance(e, Func) and e.name == "softplus":
        return e.arg
    if isinstance(e, Func) and e.name == "log":
        return _one_plus_exp(e.arg)
    return None


def _one_plus_exp(e: Expr):
    """u when e is 1 + exp(u) (in either order), else None: log(1 + exp(u)) = softplus(u)."""
    if isinstance(e, Add) and len(e.terms) == 2:
        for one, ex in (e.terms, e.terms[::-1]):
            if isinstance(one, Const) and one.value == Fraction(1) and \
                    isinstance(ex, Func) and ex.name == "exp":
                return ex.arg
    return None


def lower(outputs: list[Expr], sizes: dict | None = None,
          gradients: dict | None = None) -> list[Expr]:
    """The planned DAG of every output (shared nodes shared across outputs too).

    ``gradients`` maps the index of an output that is the gradient of output 0 (a scalar f)
    to its variable X.  When f is (positively) homogeneous of degree k ≠ 0 in X, Euler's
    theorem gives f = ⟨X, ∇f⟩ / k: the value from the gradient at the cost of one dot
    product, chosen when computing f on its own costs more (tr(XᵀAX): one n³ product
    instead of two)."""
    planner = Planner(outputs, sizes)
    out = [planner.lower(o) for o in outputs]
    if outputs and outputs[0].shape == () and gradients:
        others = set()
        for node in out[1:]:
            others.update(walk(node))
        own = sum(cost(n, planner.sizes) for n in set(walk(out[0])) - others)
        for i, x in gradients.items():
            k = degree(outputs[0], x)
            rows, cols = dims(x.shape, planner.sizes)
            euler = 2.0 * rows * cols
            if k and euler < own:
                inner = Inner(planner.lower(x), out[i], shape_=())
                out[0] = inner if k == 1 else _shaped(Mul((Const(1 / k), inner)), ())
                break
    return out


def cost(e: Expr, sizes: dict) -> float:
    """Flops (and memory passes) of computing this one node from its children."""
    if isinstance(e, MatMul):
        (m, k), (_, n) = dims(e.left.shape, sizes), dims(e.right.shape, sizes)
        return 2.0 * m * k * n
    if isinstance(e, (Solve, SolveRight, Inverse, WeightedGram)):
        n = max(dims(c.shape, sizes)[0] for c in e.children())
        return 2.0 * n ** 3
    if isinstance(e, (Symbol, Const, Transpose, Entry)):
        return 0.0          # names, numbers and views
    if isinstance(e, (Trace, DiagVec)):
        return MEMORY * min(dims(e.arg.shape, sizes))      # reads the diagonal only
    rows, cols = dims(e.shape, sizes)
    widest = max([rows * cols] + [a * b for a, b in (dims(c.shape, sizes)
                                                     for c in e.children())])
    return MEMORY * widest


def degree(e: Expr, x) -> Fraction | None:
    """k with e(tX) = tᵏ e(X) for t > 0 (the other symbols fixed), or None if e is not
    homogeneous in X (or this analysis cannot tell)."""
    if x not in set(walk(e)):
        return Fraction(0)
    if e == x:
        return Fraction(1)
    if isinstance(e, (Mul, Hadamard, Kron)):
        parts = [degree(f, x) for f in e.children()]
        return None if None in parts else sum(parts, Fraction(0))
    if isinstance(e, Add):
        parts = {degree(t, x) for t in e.terms}
        return parts.pop() if len(parts) == 1 else None
    if isinstance(e, (Transpose, Trace, Sum, Vec, DiagMat, DiagVec, Norm)):
        return degree(e.arg, x)
    if isinstance(e, Power):
        k = degree(e.base, x)
        return None if k is None else k * Fraction(e.exponent)
    if isinstance(e, Inverse):
        k = degree(e.arg, x)
        return None if k is None else -k
    if isinstance(e, ElemDiv):
        a, b = degree(e.num, x), degree(e.den, x)
        return None if a is None or b is None else a - b
    return None
