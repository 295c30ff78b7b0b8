"""Stage 4 — simplify: textbook normal form through small named rules.

Normal form (what every constructor below returns):

* transposes pushed towards the leaves — through products, inverses and powers always,
  through sums only when that does not add transposes — and cancelled ((Aᵀ)ᵀ = A, Wᵀ = W
  for a declared-symmetric W, the transpose of a scalar is the scalar);
* products: one rational coefficient first, then the scalar factors (equal bases merged
  into powers: ‖x‖·‖x‖⁻¹ = 1), then the matrix chain (I dropped, X X⁻¹ cancelled, equal
  neighbours merged into powers); a scalar-valued sub-product such as (aᵀx) stays one
  factor;
* sums: flat, zeros dropped, like terms collected (−AᵀW(x − As) − AᵀW(x − As) =
  −2AᵀW(x − As)); a scalar left alone in a matrix sum keeps its broadcast shape;
* then :func:`factor` pulls common left or right factors out of sums where the printed
  form does not grow (Ax + Aᵀx → (A + Aᵀ)x).

Every constructor is the identity's own rule table for one operation; each rewrite
shrinks the tree or moves a transpose strictly down, so the bottom-up rebuild terminates.
Entry point: :func:`simplify`.
"""
from __future__ import annotations

from collections import Counter
from fractions import Fraction

from ..core.errors import DomainError
from ..core.nodes import (
    memo_on_node,
    ONE,
    Add,
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
    dim_product,
    walk,
)
from ..core.shapes import chain_shape

# ----- helpers ------------------------------------------------------------------------


_CONSTS: dict = {}


def _c(value) -> Const:
    c = _CONSTS.get(value)
    if c is None:
        c = _CONSTS[value] = Const(Fraction(value))
    return c


def is_zero(e: Expr) -> bool:
    return isinstance(e, Zero) or (isinstance(e, Const) and e.value == 0)


def zero(shape) -> Expr:
    return Zero(tuple(shape))


def decompose(e: Expr) -> tuple[Fraction, list[Expr], list[Expr]]:
    """A product as (coefficient, scalar factors, matrix chain).

    A scalar-valued chain inside a product (the aᵀx of (aᵀx)b) is one scalar factor;
    a scalar-valued product's own chain (aᵀXb) is returned as its chain.
    """
    if isinstance(e, Const):
        return e.value, [], []
    if not isinstance(e, Mul):
        return (1, [e], []) if e.shape == () else (1, [], [e])
    coeff, scalars, chain = 1, [], []
    for f in e.factors:
        c, s, ch = decompose(f)
        if c != 1:
            coeff = coeff * c
        scalars += s
        if ch and f.shape == ():
            scalars.append(_group(ch))
        else:
            chain += ch
    return coeff, scalars, chain


def _group(chain: list[Expr]) -> Expr:
    return chain[0] if len(chain) == 1 else Mul(tuple(chain))


# ----- products ------------------------------------------------------------------------

def mul(*factors: Expr) -> Expr:
    """Product with coefficient folding, power merging and chain cleaning."""
    shape = chain_shape([f.shape for f in factors], lambda a, b: a == b, _bad_chain)
    coeff, scalars, chain = 1, [], []
    for f in factors:
        if is_zero(f):
            return zero(shape)
        c, s, ch = decompose(f)
        if c != 1:
            coeff = coeff * c
        scalars += s
        if ch and f.shape == ():
            scalars.append(_group(ch))
        else:
            chain += ch
    if coeff == 0:
        return zero(shape)
    chain, counts = _count_ones(chain)
    scalars += counts
    if len(scalars) > 1:
        scalars = merge_scalar_powers(scalars)
    if any(isinstance(s, Const) for s in scalars):
        coeff = coeff * _prod(s.value for s in scalars if isinstance(s, Const))
        scalars = [s for s in scalars if not isinstance(s, Const)]
    for i in range(len(chain) - 1):   # (a ./ b)ᵀb = bᵀ(a ./ b) = 𝟏ᵀa for columns a, b
        f, g = chain[i], chain[i + 1]
        for row, col in ((f, g), (transpose(g), transpose(f))):
            if isinstance(row, Transpose) and isinstance(row.arg, ElemDiv) and \
                    row.arg.den == col and col.shape[1:] == (1,) and \
                    row.arg.num.shape == col.shape:
                ones_row = transpose(Ones(row.arg.num.shape))
                return mul(_c(coeff), *scalars, *chain[:i], mul(ones_row, row.arg.num),
                           *chain[i + 2:])
    chain = clean_chain(chain)
    if shape == () and not chain:   # 2(aᵀx) is written 2aᵀx: the last group is the chain
        groups = [s for s in scalars if isinstance(s, Mul)]
        if groups:
            scalars.remove(groups[-1])
            chain = list(groups[-1].factors)
    parts = ([_c(coeff)] if coeff != 1 or not (scalars or chain) else []) + scalars + chain
    return parts[0] if len(parts) == 1 else Mul(tuple(parts))


def _count_ones(chain: list[Expr]) -> tuple[list[Expr], list[Expr]]:
    """(𝟏𝟏ᵀ)ₘₖ 𝟏ₖ = k𝟏ₘ, 𝟏ₖᵀ𝟏ₖ = k: adjacent all-ones factors multiply into one, the
    shared size becoming a number (a bias summed over k columns: b𝟏ₖᵀ𝟏ₖ = kb)."""
    out, counts = [], []
    for f in chain:
        if out and _ones_shape(out[-1]) and _ones_shape(f):
            (a, b), (_, c) = _ones_shape(out[-1]), _ones_shape(f)
            out.pop()
            counts.append(DimSize(b) if b != 1 else ONE)
            f = ONE if (a, c) == (1, 1) else Ones((a, c)) if a != 1 else \
                Transpose(Ones((c, 1)))
            if f is ONE:
                continue
        out.append(f)
    return out, counts


def _ones_shape(e: Expr):
    if isinstance(e, Ones) or isinstance(e, Transpose) and isinstance(e.arg, Ones):
        return e.shape
    return None


def _bad_chain(i, acc, s):
    raise AssertionError(f"internal: product of {acc} by {s}")


def _prod(values):
    out = Fraction(1)
    for v in values:
        out *= v
    return out


def merge_scalar_powers(scalars: list[Expr]) -> list[Expr]:
    """x·x → x², ‖x‖·‖x‖⁻¹ → 1 (scalar factors commute)."""
    exponents: dict[Expr, Fraction] = {}
    for s in scalars:
        base, k = (s.base, s.exponent) if isinstance(s, Power) else (s, Fraction(1))
        base = _orient_scalar(base)
        exponents[base] = exponents.get(base, Fraction(0)) + k
    return [power(b, k) for b, k in exponents.items() if k != 0]


def _orient_scalar(e: Expr) -> Expr:
    """aᵀx and xᵀa are the same scalar: keep the orientation whose first factor is a
    row of a symbol (uᵀ…), preferring the lexicographically smaller text."""
    if isinstance(e, Mul) and all(f.shape != () for f in e.factors):
        flipped = transpose(Mul(e.factors), force=True)
        if isinstance(flipped, Mul) and (transposes(flipped), _sort_key(flipped)) < \
                (transposes(e), _sort_key(e)):   # fewer transposes first: xᵀAx, not xᵀAᵀx
            return flipped
    return e


def _sort_key(e: Expr) -> tuple:
    """A deterministic order of expressions, linear in the DAG (repr would expand it)."""
    return tuple(n.name if isinstance(n, Symbol) else type(n).__name__ for n in walk(e))


def clean_chain(chain: list[Expr]) -> list[Expr]:
    """Drop identities, cancel X X⁻¹, merge equal neighbours into powers."""
    out: list[Expr] = []
    for f in chain:
        if isinstance(f, Identity) and (out or len(chain) > 1):
            continue
        if out and _cancels(out[-1], f):
            out.pop()
            continue
        if out and _same_base(out[-1], f) is not None:
            base, k = _same_base(out[-1], f)
            out[-1] = power(base, k)
            if isinstance(out[-1], Identity):
                out.pop()
            continue
        out.append(f)
    if not out and chain:
        n = chain[0].shape[0]
        return [Identity(n)]
    return out


def _cancels(a: Expr, b: Expr) -> bool:
    return (isinstance(b, Inverse) and b.arg == a) or (isinstance(a, Inverse) and a.arg == b)


def _same_base(a: Expr, b: Expr):
    """(base, exponent) when a·b is a power of one square base, else None."""
    def split(e):
        return (e.base, e.exponent) if isinstance(e, Power) else (e, Fraction(1))
    (ba, ka), (bb, kb) = split(a), split(b)
    if ba == bb and ba.shape != () and ba.shape[0] == ba.shape[1] and \
            not isinstance(ba, (Identity, Zero, Ones)):
        return ba, ka + kb
    return None


# ----- sums ------------------------------------------------------------------------------

def add(*terms: Expr) -> Expr:
    """Sum: flatten, drop zeros, collect like terms; scalars broadcast over matrices."""
    flat: list[Expr] = []
    for t in terms:
        flat.extend(t.terms if isinstance(t, Add) else (t,))
    flat = _distribute_where_terms_meet(flat)
    shapes = {t.shape for t in flat} - {()}
    shape = shapes.pop() if shapes else ()
    coeffs: dict[Expr, Fraction] = {}
    for t in flat:
        if is_zero(t):
            continue
        c, rest = split_coefficient(t)
        coeffs[rest] = coeffs.get(rest, Fraction(0)) + c
    out = [mul(_c(c), rest) for rest, c in coeffs.items() if c != 0]
    if not out:
        return zero(shape)
    if shape != () and all(t.shape == () for t in out):
        return mul(add(*out), Ones(shape))
    return out[0] if len(out) == 1 else Add(tuple(out))


def _scaled_sum(t: Expr) -> bool:
    return isinstance(t, Mul) and len(t.factors) == 2 and isinstance(t.factors[0], Const) \
        and isinstance(t.factors[1], Add)


def _distribute_where_terms_meet(flat: list[Expr]) -> list[Expr]:
    """x − (1 + x) = −1: open c(a + b) only when one of its terms meets another term
    of the sum (2(x + 2y³) alone stays as the textbook writes it)."""
    if not any(_scaled_sum(t) for t in flat):
        return flat
    rests = [split_coefficient(t)[1] for t in flat]
    out = []
    for i, t in enumerate(flat):
        others = set(rests[:i] + rests[i + 1:])
        if _scaled_sum(t) and any(split_coefficient(u)[1] in others
                                  for u in t.factors[1].terms):
            out.extend(mul(t.factors[0], u) for u in t.factors[1].terms)
        else:
            out.append(t)
    return out


def split_coefficient(t: Expr) -> tuple[Fraction, Expr]:
    if isinstance(t, Const):
        return t.value, ONE
    if isinstance(t, Mul) and isinstance(t.factors[0], Const):
        rest = t.factors[1:]
        return t.factors[0].value, rest[0] if len(rest) == 1 else Mul(rest)
    return Fraction(1), t


def neg(e: Expr) -> Expr:
    return mul(_c(-1), e)


# ----- entrywise operations ----------------------------------------------------------------

def hadamard(*factors: Expr) -> Expr:
    """A ⊙ B: scalars become coefficients, 𝟏 drops, a ⊙ (1 ./ b) becomes a ./ b."""
    fast = _extend_normal_product(factors)
    if fast is not None:
        return fast
    return _remember(_hadamard(factors))


def _plain(f: Expr) -> bool:
    """A factor no Hadamard rule rewrites on its own (nothing to fold, drop or cancel)."""
    return f.shape != () and not isinstance(f, (Hadamard, Ones, ElemDiv, Identity, Zero,
                                                 Transpose, Const)) \
        and not (isinstance(f, Mul) and isinstance(f.factors[0], Const))


def _extend_normal_product(factors) -> Expr | None:
    """f ⊙ H for H already in normal form and plain new factors f, in time independent
    of H's length (the chain rule at depth n meets f′(uₙ) ⊙ (f′(uₙ₋₁) ⊙ …): flattening
    and re-checking every factor each level made a depth-n derivation O(n²))."""
    normal = [f for f in factors if isinstance(f, Hadamard) and "_members" in f.__dict__]
    if len(normal) != 1:
        return None
    H = normal[0]
    rest = [f for f in factors if f is not H]
    if not rest or not all(_plain(f) and f.shape == H.shape for f in rest) or \
            H.__dict__["_has_identity"] or any(f in H.__dict__["_dens"] for f in rest):
        return None
    i = next(i for i, f in enumerate(factors) if f is H)
    out = Hadamard(tuple(factors[:i]) + H.factors + tuple(factors[i + 1:]))
    out.__dict__["shape"] = H.shape   # known: computing it would visit every factor
    object.__setattr__(out, "_members", True)
    object.__setattr__(out, "_has_identity", False)
    object.__setattr__(out, "_dens", H.__dict__["_dens"])
    return out


def _remember(e: Expr) -> Expr:
    """Mark a Hadamard product in normal form with what the fast path needs to know."""
    if isinstance(e, Hadamard) and "_members" not in e.__dict__:
        object.__setattr__(e, "_members", True)
        object.__setattr__(e, "_has_identity", any(isinstance(f, Identity)
                                                   for f in e.factors))
        object.__setattr__(e, "_dens", frozenset(f.den for f in e.factors
                                                 if isinstance(f, ElemDiv)))
    return e


def _hadamard(factors) -> Expr:
    flat: list[Expr] = []
    for f in factors:
        flat.extend(f.factors if isinstance(f, Hadamard) else (f,))
    shapes = {f.shape for f in flat} - {()}
    shape = shapes.pop() if shapes else ()
    if any(is_zero(f) for f in flat):
        return zero(shape)
    coeff = Fraction(1)
    for i, f in enumerate(flat):   # (−y) ⊙ u = −(y ⊙ u)
        if isinstance(f, Mul) and isinstance(f.factors[0], Const) and f.shape != ():
            c, rest = split_coefficient(f)
            coeff, flat[i] = coeff * c, rest
    scaled = []   # (s𝟏𝟏ᵀ) ⊙ A = sA: a scaled all-ones factor is a scalar (mean(·) makes them)
    for i, f in enumerate(flat):
        if isinstance(f, Mul) and f.shape != () and \
                sum(isinstance(k, Ones) for k in f.factors) == 1 and \
                all(isinstance(k, Ones) or k.shape == () for k in f.factors):
            scaled += [k for k in f.factors if k.shape == ()]
            flat[i] = next(k for k in f.factors if isinstance(k, Ones))
    scalars = [f for f in flat if f.shape == ()] + scaled + \
        ([_c(coeff)] if coeff != 1 else [])
    matrices = [f for f in flat if f.shape != () and not isinstance(f, Ones)]
    for i, f in enumerate(matrices):   # (a ./ b) ⊙ b = a
        if isinstance(f, ElemDiv) and f.den in matrices[:i] + matrices[i + 1:]:
            rest = list(matrices)
            rest.remove(f.den)
            rest[rest.index(f)] = f.num
            return hadamard(*scalars, *rest) if rest else mul(*scalars, Ones(shape))
    dens = [f.den for f in matrices if isinstance(f, ElemDiv) and _is_one(f.num)]
    matrices = [f for f in matrices if not (isinstance(f, ElemDiv) and _is_one(f.num))]
    if any(isinstance(f, Identity) for f in matrices):   # Aᵀ ⊙ I = A ⊙ I: only the diagonal
        matrices = [f.arg if isinstance(f, Transpose) else f for f in matrices]
    if not matrices:
        core = Ones(shape) if shape != () else ONE
    else:
        core = matrices[0] if len(matrices) == 1 else Hadamard(tuple(matrices))
    for d in dens:
        core = elemdiv(core, d)
    return mul(*scalars, core) if scalars else core


def _is_one(e: Expr) -> bool:
    return isinstance(e, Const) and e.value == 1 or isinstance(e, Ones)


def elemdiv(a: Expr, b: Expr) -> Expr:
    """a ./ b; by a scalar it is a product by b⁻¹; exp(u) ./ (1 + exp(u)) = σ(u)."""
    if b.shape == ():
        return mul(a, power(b, Fraction(-1)))
    if is_zero(b):
        raise DomainError("the expression divides by zero")
    if is_zero(a):
        return zero(b.shape)
    if isinstance(b, Ones):
        return a
    for e in (a.factors if isinstance(a, Hadamard) else (a,)):   # exp(u) ./ (1 + exp(u)) = σ(u)
        if isinstance(e, Func) and e.name == "exp" and b == add(ONE, e):
            rest = [f for f in (a.factors if isinstance(a, Hadamard) else ()) if f is not e]
            return hadamard(func("sigmoid", e.arg), *rest)
    if isinstance(a, Const) and a.value != 1:
        return mul(a, elemdiv(ONE, b))
    return ElemDiv(a, b)


def func(name: str, arg: Expr) -> Expr:
    """An elementwise function; log(exp(u)) = u, exp(log(u)) = u, constants folded."""
    if isinstance(arg, Func) and {name, arg.name} == {"log", "exp"}:
        return arg.arg
    if isinstance(arg, Zero) or (isinstance(arg, Const) and arg.value == 0):
        if name == "log":
            raise DomainError("the expression takes the log of zero")
        if name in ("sin", "tanh", "sqrt", "tan", "arcsin", "arctan", "relu", "abs", "sign",
                    "step"):
            return arg
        one = ONE if arg.shape == () else Ones(arg.shape)
        if name in ("exp", "cos"):
            return one
        if name == "sigmoid":
            return mul(_c(Fraction(1, 2)), one)
    if isinstance(arg, Const) and arg.value == 1 and name in ("log", "sqrt"):
        return _c(0) if name == "log" else ONE
    return Func(name, arg)


# ----- transpose, inverse, power ----------------------------------------------------------

@memo_on_node
def transposes(e: Expr) -> int:
    """How many transposes e prints (memoised on shared subtrees: linear in the DAG)."""
    return isinstance(e, Transpose) + sum(transposes(k) for k in e.children())


def transpose(e: Expr, force: bool = False) -> Expr:
    """Xᵀ pushed to the leaves: (AB)ᵀ = BᵀAᵀ, (Aᵀ)ᵀ = A, Wᵀ = W for symmetric W."""
    if e.shape == () and not force:
        return e
    return _pushed_transpose(e)


@memo_on_node   # factoring transposes every sum it meets: each shared subtree once
def _pushed_transpose(e: Expr) -> Expr:
    match e:
        case Transpose(arg=a):
            return a
        case Symbol(symmetric=True) | Identity() | DiagMat() | Const():
            return e
        case Differential(of=Symbol(symmetric=True)):
            return e
        case Zero(shape_=s):
            return Zero(s[::-1])
        case Ones(shape_=s):
            return Ones(s[::-1]) if s[1] != 1 and s[0] != 1 else Transpose(e)
        case Mul():
            coeff, scalars, chain = decompose(e)
            return mul(_c(coeff), *scalars, *[transpose(f) for f in reversed(chain)])
        case Inverse(arg=a) if isinstance(a, Symbol) and a.symmetric:
            return e
        case Inverse(arg=a) if is_symmetric_product(a):   # (XᵀX)⁻ᵀ = (XᵀX)⁻¹
            return e
        case Inverse(arg=Transpose(arg=a)):
            return inverse(a)
        case Power(base=b, exponent=k):
            return power(transpose(b), k)
        case Add(terms=ts) | Hadamard(factors=ts):
            pushed = (add if isinstance(e, Add) else hadamard)(*[transpose(t) for t in ts])
            if isinstance(pushed, type(e)) and Counter(pushed.children()) == Counter(ts):
                return e   # (B + Bᵀ)ᵀ = B + Bᵀ: keep the order it was written in (a multiset:
                #            (B ⊙ Bᵀ ⊙ B)ᵀ = Bᵀ ⊙ B ⊙ Bᵀ is another matrix)
            return pushed if transposes(pushed) <= transposes(e) + 1 else Transpose(e)
        case Func(name=n, arg=a):
            pushed = func(n, transpose(a))
            return pushed if transposes(pushed) <= transposes(e) + 1 else Transpose(e)
    return Transpose(e)


def inverse(e: Expr) -> Expr:
    """X⁻¹: (X⁻¹)⁻¹ = X, I⁻¹ = I, (Xᵀ)⁻¹ = (X⁻¹)ᵀ, (cX)⁻¹ = c⁻¹X⁻¹, a scalar's is 1/a."""
    if e.shape == ():
        return power(e, Fraction(-1))
    if is_zero(e):
        raise DomainError("the expression inverts a zero matrix")
    match e:
        case Inverse(arg=a):
            return a
        case Identity():
            return e
        case Transpose(arg=a):
            return transpose(inverse(a))
        case Power(base=b, exponent=k):
            return power(inverse(b), k)
        case Mul() if len(decompose(e)[2]) == 1:
            coeff, scalars, chain = decompose(e)
            return mul(_c(1 / coeff), *[power(s, -1) for s in scalars], inverse(chain[0]))
    return Inverse(e)


def power(base: Expr, k) -> Expr:
    """x^k: x¹ = x, x⁰ = 1 (or I), constants folded, (x^a)^b = x^(ab) for integer b."""
    k = Fraction(k)
    if k < 0 and is_zero(base):
        raise DomainError("the expression divides by zero")
    if k > 0 and is_zero(base) and base.shape == ():   # 0² = 0 (the matrix 0ᵏ likewise below)
        return _c(0)
    if k == 1:
        return base
    if k == 0:
        return ONE if base.shape == () else Identity(base.shape[0])
    if isinstance(base, Const):
        if base.value == 0 and k < 0:
            raise DomainError("the expression divides by zero")
        if k.denominator == 1:
            return Const(base.value ** k.numerator)
    if isinstance(base, (Identity, Ones)) and base.shape != () and base.shape[1] != 1:
        return base if isinstance(base, Identity) else Power(base, k)
    if isinstance(base, Power) and k.denominator == 1 and base.exponent.denominator == 1:
        return power(base.base, base.exponent * k)
    if isinstance(base, Func) and base.name == "sqrt" and base.shape == () and \
            k.denominator == 1 and k % 2 == 0:   # sqrt(u)² = u where sqrt(u) is defined
        return power(base.arg, k / 2)
    if isinstance(base, Mul) and base.shape == () and k.denominator == 1:
        coeff, scalars, chain = decompose(base)
        if coeff != 1 or len(scalars) + (1 if chain else 0) > 1:
            parts = [power(s, k) for s in scalars]
            if chain:
                parts.append(Power(Mul(tuple(chain)) if len(chain) > 1 else chain[0], k))
            return mul(Const(coeff ** k), *parts)
    if base.shape != () and k < 0:
        return power(inverse(base), -k)
    return Power(base, k)


# ----- scalar functions of matrices ---------------------------------------------------------

def trace(e: Expr) -> Expr:
    """tr: linear (scalars out, sums split), tr(Aᵀ) = tr(A), tr(I) = n, cyclic to a scalar."""
    if e.shape == ():
        return e
    match e:
        case Zero():
            return _c(0)
        case Identity(n=n):
            return DimSize(n)
        case Transpose(arg=a):
            return trace(a)
        case Kron(left=a, right=b) if a.shape[0] == a.shape[1]:   # tr(A ⊗ B) = tr(A)tr(B)
            return mul(trace(a), trace(b))
        case Add(terms=ts):   # a broadcast scalar s adds s to n diagonal entries: n·s
            return add(*[mul(t, DimSize(e.shape[0])) if t.shape == () else trace(t)
                         for t in ts])
        case Mul():
            coeff, scalars, chain = decompose(e)
            if coeff != 1 or scalars:
                return mul(_c(coeff), *scalars, trace(mul(*chain)))
            for i, f in enumerate(chain):   # tr(abᵀ) = bᵀa: rotate to a row first
                if i and f.shape[0] == 1:
                    return mul(*chain[i:], *chain[:i])
    return Trace(e)


def det(e: Expr) -> Expr:
    """det: det(I) = 1, det(Xᵀ) = det(X), det(X⁻¹) = det(X)⁻¹."""
    if e.shape == ():
        return e
    match e:
        case Identity():
            return ONE
        case Transpose(arg=a):
            return det(a)
        case Inverse(arg=a):
            return power(det(a), -1)
    return Det(e)


def logdet(e: Expr) -> Expr:
    """log det: logdet(Xᵀ) = logdet(X), logdet(X⁻¹) = −logdet(X)."""
    if e.shape == ():
        return func("log", e)
    if is_zero(e):
        raise DomainError("the expression takes log det of a zero matrix")
    match e:
        case Identity():
            return _c(0)
        case Transpose(arg=a):
            return logdet(a)
        case Inverse(arg=a):
            return neg(logdet(a))
    return LogDet(e)


def sum_entries(e: Expr) -> Expr:
    """sum(X): linear; the sum of a scalar is itself."""
    if e.shape == ():
        return e
    match e:
        case Zero():
            return _c(0)
        case Transpose(arg=a):
            return sum_entries(a)
        case Mul():
            coeff, scalars, chain = decompose(e)
            if coeff != 1 or scalars:
                return mul(_c(coeff), *scalars, sum_entries(mul(*chain)))
    return Sum(e)


def diagmat(e: Expr) -> Expr:
    """diag(v): diag(𝟏) = I."""
    if isinstance(e, Ones):
        return Identity(e.shape[0])
    return zero((e.shape[0], e.shape[0])) if is_zero(e) else DiagMat(e)


def diagvec(e: Expr) -> Expr:
    """diag(X): diag(diag(v)) = v, diag(Xᵀ) = diag(X), diag(abᵀ) = a ⊙ b."""
    if isinstance(e, DiagMat):
        return e.arg
    if isinstance(e, Transpose):
        return diagvec(e.arg)
    if isinstance(e, Mul):
        coeff, scalars, chain = decompose(e)
        if len(chain) == 2 and chain[0].shape[1] == 1:
            return mul(_c(coeff), *scalars, hadamard(chain[0], transpose(chain[1])))
    return zero((e.shape[0], 1)) if is_zero(e) else DiagVec(e)


def norm(e: Expr, kind: str) -> Expr:
    if is_zero(e):
        return _c(0)
    if isinstance(e, Transpose):
        return norm(e.arg, kind)
    return Norm(e, kind)


def softmax(e: Expr) -> Expr:
    """softmax(0) = 𝟏/n."""
    if is_zero(e):
        return mul(power(DimSize(e.shape[0]), -1), Ones(e.shape))
    return Softmax(e)


def logsumexp(e: Expr) -> Expr:
    """logsumexp(0) = log n."""
    return func("log", DimSize(e.shape[0])) if is_zero(e) else LogSumExp(e)


def elempower(base: Expr, p: Expr) -> Expr:
    """U.^p: U.^1 = U; a scalar to a number power is a Power; U.^0 = 𝟏."""
    if isinstance(p, Const):
        if p.value == 1:
            return base
        if p.value == 0:
            return ONE if base.shape == () else Ones(base.shape)
        if base.shape == ():
            return power(base, p.value)
    return ElemPower(base, p)


def kron(a: Expr, b: Expr) -> Expr:
    """A ⊗ B: scalars come out, I ⊗ I = I, 1×1 factors drop."""
    if is_zero(a) or is_zero(b):
        sa, sb = (s if s != () else (1, 1) for s in (a.shape, b.shape))
        return Zero((dim_product(sa[0], sb[0]), dim_product(sa[1], sb[1])))
    ca, sa, cha = decompose(a)
    cb, sb, chb = decompose(b)
    if ca != 1 or cb != 1 or sa or sb:
        return mul(_c(ca * cb), *sa, *sb, kron(mul(*cha) if cha else ONE,
                                                 mul(*chb) if chb else ONE))
    if a.shape == ():   # a scalar (even a scalar-valued chain such as yᵀz) scales
        return b if a == ONE else mul(a, b)
    if b.shape == ():
        return a if b == ONE else mul(b, a)
    if isinstance(a, Identity) and isinstance(b, Identity):
        return Identity(dim_product(a.n, b.n))
    return Kron(a, b)


def vec(e: Expr) -> Expr:
    """vec(X): a column vector is its own vec; vec(abᵀ) = b ⊗ a."""
    if e.shape == () or e.shape[1] == 1:
        return e
    if is_zero(e):
        return Zero((dim_product(*e.shape), 1))
    return Vec(e)


# ----- the engine -------------------------------------------------------------------------

REBUILD = {
    Add: lambda e, k: add(*k), Mul: lambda e, k: mul(*k), Hadamard: lambda e, k: hadamard(*k),
    ElemDiv: lambda e, k: elemdiv(*k), Power: lambda e, k: power(k[0], e.exponent),
    Transpose: lambda e, k: transpose(k[0]), Inverse: lambda e, k: inverse(k[0]),
    Trace: lambda e, k: trace(k[0]), Det: lambda e, k: det(k[0]),
    LogDet: lambda e, k: logdet(k[0]), Func: lambda e, k: func(e.name, k[0]),
    Sum: lambda e, k: sum_entries(k[0]), DiagMat: lambda e, k: diagmat(k[0]),
    DiagVec: lambda e, k: diagvec(k[0]), Norm: lambda e, k: norm(k[0], e.kind),
    Differential: lambda e, k: e,
    Kron: lambda e, k: kron(*k), Vec: lambda e, k: vec(k[0]),
    Softmax: lambda e, k: softmax(k[0]), LogSumExp: lambda e, k: logsumexp(k[0]),
    ElemPower: lambda e, k: elempower(*k), SoftmaxRows: lambda e, k: SoftmaxRows(k[0]),
    LogSumExpRows: lambda e, k: LogSumExpRows(k[0]),
}


def rebuild(e: Expr, memo: dict | None = None) -> Expr:
    """One bottom-up pass through the constructors (shared subtrees visited once)."""
    memo = {} if memo is None else memo
    for node in walk(e):
        if id(node) in memo:
            continue
        kids = node.children()
        if not kids:
            memo[id(node)] = node
            continue
        new = [memo[id(k)] for k in kids]
        memo[id(node)] = REBUILD[type(node)](node, new)
    return memo[id(e)]


def simplify(e: Expr, max_passes: int = 8) -> Expr:
    """Normal form, then common factors pulled out; value and shape are preserved."""
    from ..core.nodes import deep_recursion
    shape = e.shape
    with deep_recursion():
        for _ in range(max_passes):
            new = factor(textbook(rebuild(e)))
            if new == e:
                break
            e = new
    assert e.shape == shape, f"simplify changed the shape {shape} → {e.shape}"
    return e


# ----- factoring ----------------------------------------------------------------------------

def size(e: Expr) -> int:
    """Roughly the printed length without spaces and brackets: leaves and operators."""
    match e:
        case Symbol() | Identity() | Zero() | Ones() | DimSize() | Differential():
            return len(e.name) if isinstance(e, Symbol) else 1
        case Const(value=v):
            return len(str(abs(v))) + (1 if v < 0 else 0)
        case Add(terms=ts):
            return sum(size(t) for t in ts) + len(ts) - 1
        case Mul(factors=fs):
            return sum(size(f) for f in fs)
        case Hadamard(factors=fs):
            return sum(size(f) for f in fs) + len(fs) - 1
        case Transpose(arg=a) | Inverse(arg=a) | Power(base=a):
            return size(a) + 1
        case Norm(arg=a):
            return size(a) + 2
    kids = e.children()
    return sum(size(k) for k in kids) + 2 + len(type(e).__name__) // 2


def factor(e: Expr) -> Expr:
    """Pull common left/right matrix factors out of sums where it does not lengthen."""
    memo: dict[int, Expr] = {}
    for node in walk(e):
        kids = node.children()
        new = node.rebuild(memo[id(k)] for k in kids) if kids else node
        if isinstance(new, Add):
            new = factor_sum(new)
        memo[id(node)] = new
    return memo[id(e)]


def factor_sum(e: Add) -> Expr:
    best = e
    for candidate in (_factor_side(e, "right"), _factor_side(e, "left"),
                      _transpose_out(e)):
        if candidate is not None and size(candidate) < size(best):
            best = candidate
    try:   # an optional rewrite: a base that cancels to 0 is no factor (never an error)
        common = _scalar_out(best) if isinstance(best, Add) else None
    except DomainError:
        common = None
    if common is not None and size(common) <= size(best):
        best = common
    return best


def _scalar_out(e: Add) -> Expr | None:
    """I/‖x‖ − xxᵀ/‖x‖³ → (I − xxᵀ/‖x‖²)/‖x‖: a power of one base in every term."""
    powers = []
    for t in e.terms:
        _, scalars, _ = decompose(t)
        powers.append({(s.base if isinstance(s, Power) else s):
                       (s.exponent if isinstance(s, Power) else Fraction(1)) for s in scalars})
    for base in powers[0]:
        ks = [p.get(base) for p in powers]
        if None in ks or not (all(k > 0 for k in ks) or all(k < 0 for k in ks)):
            continue
        k = min(ks, key=abs)
        coeffs = {abs(Fraction(decompose(t)[0])) for t in e.terms}
        c = coeffs.pop() if len(coeffs) == 1 else Fraction(1)   # 2Ax − 2Bx: the 2 too
        inner = add(*[mul(_c(1 / c), t, power(base, -k)) for t in e.terms])
        return mul(_c(c), inner, power(base, k))
    return None


def _transpose_out(e: Add) -> Expr | None:
    """BᵀXᵀ + XᵀBᵀ → (XB + BX)ᵀ when that removes transposes (Cookbook 107)."""
    if e.shape == () or transposes(e) < 2:
        return None
    inner = add(*[transpose(t) for t in e.terms])
    return Transpose(inner) if transposes(inner) + 1 < transposes(e) else None


def _factor_side(e: Add, side: str) -> Expr | None:
    groups: dict[Expr, list[int]] = {}
    parts = []
    for i, t in enumerate(e.terms):
        coeff, scalars, chain = decompose(t)
        parts.append((coeff, scalars, chain))
        if len(chain) >= 2 and t.shape == e.shape:   # never a broadcast scalar (sᵀdx)
            key = chain[-1] if side == "right" else chain[0]
            groups.setdefault(key, []).append(i)
    key, members = max(groups.items(), key=lambda kv: len(kv[1]), default=(None, []))
    if len(members) < 2:
        return None
    inner = []
    for i in members:
        coeff, scalars, chain = parts[i]
        rest = chain[:-1] if side == "right" else chain[1:]
        inner.append(mul(_c(coeff), *scalars, *rest))
    summed = factor(add(*inner))
    grouped = mul(summed, key) if side == "right" else mul(key, summed)
    terms = [grouped if i == members[0] else t for i, t in enumerate(e.terms)
             if i == members[0] or i not in members]
    return add(*terms)


# ----- textbook forms of ML losses (issue 10 item 6): small rules, applied after rebuild --

def _exp_arg(e: Expr) -> Expr | None:
    return e.arg if isinstance(e, Func) and e.name == "exp" else None


def _one_plus_exp(e: Expr) -> Expr | None:
    """u for 1 + exp(u) (either order), else None."""
    if isinstance(e, Add) and len(e.terms) == 2:
        a, b = e.terms
        for one, other in ((a, b), (b, a)):
            if isinstance(one, Const) and one.value == 1 and _exp_arg(other) is not None:
                return _exp_arg(other)
    return None


def _negated(u: Expr) -> Expr | None:
    """v for u = −v."""
    if isinstance(u, Mul) and u.factors and u.factors[0] == MINUS_ONE_C:
        return mul(*u.factors[1:])
    return None


MINUS_ONE_C = Const(Fraction(-1))


def sigmoid_from_exp(e: Expr) -> Expr | None:
    """exp(u)/(1 + exp(u)) = σ(u); exp(u)/(1 + exp(u))² = σ(u)(1 − σ(u));
    1/(1 + exp(−u)) = σ(u); exp(−u)/(1 + exp(−u))² = σ(u)(1 − σ(u)) — scalar factors of
    a product, in any order."""
    if not isinstance(e, Mul):
        return None
    fs = list(e.factors)
    for i, f in enumerate(fs):
        if not (isinstance(f, Power) and f.exponent in (-1, -2)):
            continue
        u = _one_plus_exp(f.base)
        if u is None:
            continue
        rest = fs[:i] + fs[i + 1:]
        j = next((k for k, g in enumerate(rest) if isinstance(g, Power) and
                  g.exponent == -f.exponent and _exp_arg(g.base) == u), None)
        if j is not None:   # exp(u)ᵏ/(1 + exp(u))ᵏ = σ(u)ᵏ
            return mul(*rest[:j], *rest[j + 1:], power(func("sigmoid", u), -f.exponent))
        j = next((k for k, g in enumerate(rest) if _exp_arg(g) == u), None)
        if j is not None:   # exp(u) over (1 + exp(u))ᵏ
            s = func("sigmoid", u)
            out = s if f.exponent == -1 else mul(s, add(ONE, neg(s)))
            return mul(*rest[:j], *rest[j + 1:], out)
        v = _negated(u)
        if v is not None and f.exponent == -1:   # 1/(1 + exp(−v)) = σ(v)
            return mul(*rest, func("sigmoid", v))
    return None


def sigmoid_of_negation(e: Expr) -> Expr | None:
    """σ(−v)(1 − σ(−v)) = σ(v)(1 − σ(v)): the logistic derivative is even."""
    if not isinstance(e, Mul):
        return None
    fs = list(e.factors)
    for i, f in enumerate(fs):
        if isinstance(f, Func) and f.name == "sigmoid" and _negated(f.arg) is not None:
            partner = add(ONE, neg(f))
            if partner in fs:
                s = func("sigmoid", _negated(f.arg))
                rest = [g for k, g in enumerate(fs) if k != i and g is not partner]
                rest.remove(partner) if partner in rest else None
                return mul(*rest, s, add(ONE, neg(s)))
    return None


def sigmoid_before_complement(e: Expr) -> Expr | None:
    """(1 − σ(u))σ(u) prints as the book's σ(u)(1 − σ(u))."""
    if not isinstance(e, Mul):
        return None
    fs = list(e.factors)
    for i, f in enumerate(fs):
        if isinstance(f, Func) and f.name == "sigmoid":
            partner = add(ONE, neg(f))
            if partner in fs[:i]:
                k = fs.index(partner)
                return mul(*fs[:k], f, partner, *[g for j, g in enumerate(fs)
                                                  if j > k and j != i])
    return None


def is_symmetric_product(a: Expr) -> bool:
    """XᵀX, XXᵀ, XᵀCX with C symmetric: a product equal to its own transpose."""
    return isinstance(a, Mul) and a.shape != () and len(a.factors) > 1 and \
        transpose(a) == a


def hadamard_expand_if_shorter(e: Expr) -> Expr | None:
    """(1 − y) ⊙ s − y ⊙ (1 − s) = s − y: open every entrywise product over its sums,
    collect, and keep it only where it is shorter."""
    if not isinstance(e, Add) or e.shape == () or \
            not any(_has_hadamard_sum(t) for t in e.terms):
        return None
    opened = add(*[u for t in e.terms for u in _open(t)])
    return opened if size(opened) < size(e) else None


def _has_hadamard_sum(t: Expr) -> bool:
    _, _, chain = decompose(t)
    body = chain[0] if len(chain) == 1 else t
    return isinstance(body, Hadamard) and any(isinstance(f, Add) for f in body.factors)


def _open(t: Expr) -> list[Expr]:
    """The terms of t with its entrywise product opened, factors in one order."""
    coeff, scalars, chain = decompose(t)
    body = chain[0] if len(chain) == 1 else None
    if not isinstance(body, Hadamard):
        return [t]
    products: list[list[Expr]] = [[]]
    for f in body.factors:
        parts = f.terms if isinstance(f, Add) else (f,)
        products = [p + [q] for p in products for q in parts]
    out = []
    for p in products:
        c, rest = split_coefficient(hadamard(*p))
        if isinstance(rest, Hadamard):
            rest = Hadamard(tuple(sorted(rest.factors, key=_sort_key)))
        out.append(mul(_c(coeff * c), *scalars, rest))
    return out


def division_cancels(e: Expr) -> Expr | None:
    """(u ./ v) ⊙ v = u."""
    if not isinstance(e, Hadamard):
        return None
    fs = list(e.factors)
    for i, f in enumerate(fs):
        if isinstance(f, ElemDiv):
            rest = fs[:i] + fs[i + 1:]
            if f.den in rest:
                rest.remove(f.den)
                return hadamard(f.num, *rest)
    return None


def ones_times_quotient(e: Expr) -> Expr | None:
    """(u ./ v)ᵀv = 𝟏ᵀu;  𝟏ᵀsoftmax(z) = 1 (its entries sum to one)."""
    if not isinstance(e, Mul):
        return None
    fs = list(e.factors)
    for i in range(len(fs) - 1):
        a, b = fs[i], fs[i + 1]
        if isinstance(a, Transpose) and isinstance(a.arg, ElemDiv) and a.arg.den == b and \
                b.shape[1:] == (1,):
            u = a.arg.num
            return mul(*fs[:i], transpose(Ones(u.shape)), u, *fs[i + 2:])
        if isinstance(a, Transpose) and isinstance(a.arg, Ones) and isinstance(b, Softmax):
            return mul(*fs[:i], *fs[i + 2:]) if len(fs) > 2 else ONE
    return None


def scalar_multiples_collect(e: Expr) -> Expr | None:
    """a − s a = (1 − s)a for a scalar s: terms that differ only by scalar factors."""
    if not isinstance(e, Add) or e.shape == () or len(e.terms) < 2:
        return None
    split = []
    for t in e.terms:
        coeff, scalars, chain = decompose(t)
        if not chain:
            return None
        split.append((mul(*chain), mul(_c(coeff), *scalars)))
    first = split[0][0]
    if any(c != first for c, _ in split):
        return None
    return mul(add(*[s for _, s in split]), first)


def ones_times_probability(e: Expr) -> Expr | None:
    """𝟏ᵀy = 1 and sum(y) = 1 for a declared probability vector y (y: probability)."""
    if isinstance(e, Sum) and isinstance(e.arg, Symbol) and e.arg.probability:
        return ONE
    if not isinstance(e, Mul):
        return None
    fs = list(e.factors)
    for i in range(len(fs) - 1):
        a, b = fs[i], fs[i + 1]
        if isinstance(a, Transpose) and isinstance(a.arg, Ones) and \
                isinstance(b, Symbol) and b.probability:
            return mul(*fs[:i], *fs[i + 2:]) if len(fs) > 2 else ONE
    return None


TEXTBOOK_RULES = [ones_times_probability, sigmoid_from_exp, sigmoid_of_negation, sigmoid_before_complement,
                  division_cancels,
                  ones_times_quotient, scalar_multiples_collect, hadamard_expand_if_shorter]


def textbook(e: Expr) -> Expr:
    """One bottom-up pass of TEXTBOOK_RULES, each result rebuilt by the constructors."""
    memo: dict[int, Expr] = {}
    for node in walk(e):
        kids = node.children()
        new = node if not kids else REBUILD[type(node)](node, [memo[id(k)] for k in kids]) \
            if any(memo[id(k)] is not k for k in kids) else node
        for rule in TEXTBOOK_RULES:
            out = rule(new)
            if out is not None:
                new = out
        memo[id(node)] = new
    return memo[id(e)]
