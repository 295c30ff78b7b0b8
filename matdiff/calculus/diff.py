"""Stage 3 — differentiate: matrix differentials, then the gradient read off tr(Gᵀ dX).

:func:`differential` applies one rule per node (Magnus–Neudecker), giving an expression
linear in dX — the differential form, kept for step-by-step derivations and Jacobians.
:func:`pullback` reads the gradient off it: for df = ⟨G, L(dX)⟩ it pushes G backwards
through the linear map L (the adjoint), so that df = tr(∇ᵀ dX).  Both walk shared
subtrees once.
"""
from __future__ import annotations

from fractions import Fraction
from functools import singledispatch

from ..core.errors import NoRuleError
from ..core.nodes import (
    memo_on_node,
    ONE,
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
    walk,
)
from .simplify import (
    add,
    decompose,
    diagmat,
    diagvec,
    elemdiv,
    elempower,
    func,
    hadamard,
    inverse,
    is_zero,
    kron,
    mul,
    neg,
    power,
    sum_entries,
    trace,
    transpose,
    vec,
)


def differential(e: Expr, x: Symbol) -> Expr:
    """d e with respect to the symbol x: an expression linear in dx (Zero if independent)."""
    memo: dict[int, Expr] = {}
    for node in walk(e):
        memo[id(node)] = _d(node, x, lambda k: memo[id(k)])
    return memo[id(e)]


@singledispatch
def _d(e: Expr, x: Symbol, d) -> Expr:
    raise NoRuleError(f"no differentiation rule for {type(e).__name__}")


@_d.register
def _(e: Symbol, x, d):
    """dX is the differential leaf; every other symbol is constant."""
    return Differential(e) if e.name == x.name else Zero(e.shape)


@_d.register(Const)
@_d.register(Identity)
@_d.register(Zero)
@_d.register(Ones)
@_d.register(DimSize)
@_d.register(Commutation)
def _(e, x, d):
    """Constants: d c = 0."""
    return Zero(e.shape)


@_d.register
def _(e: Add, x, d):
    """d(A + B) = dA + dB."""
    return add(*[d(t) for t in e.terms])


@_d.register
def _(e: Mul, x, d):
    """Product rule: d(XY) = dX Y + X dY."""
    fs = e.factors
    return add(*[mul(*fs[:i], d(f), *fs[i + 1:]) for i, f in enumerate(fs)
                 if not is_zero(d(f))] or [Zero(e.shape)])


@_d.register
def _(e: Hadamard, x, d):
    """d(A ⊙ B) = dA ⊙ B + A ⊙ dB."""
    fs = e.factors
    return add(*[hadamard(*fs[:i], d(f), *fs[i + 1:]) for i, f in enumerate(fs)
                 if not is_zero(d(f))] or [Zero(e.shape)])


@_d.register
def _(e: ElemDiv, x, d):
    """d(A ./ B) = dA ./ B − (A ⊙ dB) ./ (B ⊙ B)."""
    a, b = e.num, e.den
    return add(elemdiv(d(a), b), neg(elemdiv(hadamard(a, d(b)), hadamard(b, b))))


@_d.register
def _(e: Power, x, d):
    """d(a^k) = k a^(k−1) da for a scalar; d(X^k) = Σᵢ Xⁱ dX X^(k−1−i) for a matrix."""
    b, k = e.base, e.exponent
    if b.shape == ():
        return mul(Const(k), power(b, k - 1), d(b))
    return add(*[mul(power(b, i), d(b), power(b, k - 1 - i)) for i in range(int(k))])


@_d.register
def _(e: Transpose, x, d):
    """Linear: d(Xᵀ) = (dX)ᵀ."""
    return transpose(d(e.arg))


@_d.register
def _(e: Inverse, x, d):
    """d(X⁻¹) = −X⁻¹ dX X⁻¹  (Matrix Cookbook 59)."""
    return neg(mul(e, d(e.arg), e))


@_d.register
def _(e: Trace, x, d):
    """Linear: d tr(X) = tr(dX)."""
    return trace(d(e.arg))


@_d.register
def _(e: Det, x, d):
    """d det(X) = det(X) tr(X⁻¹ dX)  (Matrix Cookbook 46)."""
    return mul(e, trace(mul(inverse(e.arg), d(e.arg))))


@_d.register
def _(e: LogDet, x, d):
    """d log det(X) = tr(X⁻¹ dX)  (Matrix Cookbook 57)."""
    return trace(mul(inverse(e.arg), d(e.arg)))


def _one_minus(u: Expr) -> Expr:
    return add(ONE, neg(u))


def _squared(u: Expr) -> Expr:
    """u^∘2 entrywise (u² for a scalar)."""
    return elempower(u, Const(Fraction(2)))


DERIVATIVE = {   # f'(u) for elementwise f, given u and f(u)
    "exp": lambda u, fu: fu,
    "log": lambda u, fu: elemdiv(ONE, u),
    "sin": lambda u, fu: func("cos", u),
    "cos": lambda u, fu: neg(func("sin", u)),
    "tanh": lambda u, fu: _one_minus(hadamard(fu, fu)),
    "sigmoid": lambda u, fu: hadamard(fu, _one_minus(fu)),
    "sqrt": lambda u, fu: elemdiv(ONE, mul(Const(Fraction(2)), fu)),
    "tan": lambda u, fu: add(ONE, _squared(fu)),
    "arcsin": lambda u, fu: elemdiv(ONE, func("sqrt", _one_minus(_squared(u)))),
    "arccos": lambda u, fu: neg(elemdiv(ONE, func("sqrt", _one_minus(_squared(u))))),
    "arctan": lambda u, fu: elemdiv(ONE, add(ONE, _squared(u))),
    "softplus": lambda u, fu: func("sigmoid", u),
    # not differentiable at 0: the derivative used there is the right-hand one for relu
    # (step(0) = 0 is the convention of PyTorch and JAX), sign(0) = 0 for abs
    "relu": lambda u, fu: func("step", u),
    "abs": lambda u, fu: func("sign", u),
    "sign": lambda u, fu: Zero(u.shape),
    "step": lambda u, fu: Zero(u.shape),
}


@_d.register
def _(e: Func, x, d):
    """Chain rule, entrywise: d f(U) = f'(U) ⊙ dU."""
    du = d(e.arg)
    return Zero(e.shape) if is_zero(du) else hadamard(DERIVATIVE[e.name](e.arg, e), du)


@_d.register
def _(e: Sum, x, d):
    """Linear: d sum(X) = sum(dX)."""
    return sum_entries(d(e.arg))


@_d.register
def _(e: DiagMat, x, d):
    """Linear: d diag(v) = diag(dv)."""
    return diagmat(d(e.arg))


@_d.register
def _(e: DiagVec, x, d):
    """Linear: d diag(X) = diag(dX)."""
    return diagvec(d(e.arg))


@_d.register
def _(e: Norm, x, d):
    """d‖X‖ = tr(Xᵀ dX)/‖X‖  (Euclidean and Frobenius; Matrix Cookbook 129)."""
    return mul(power(e, -1), trace(mul(transpose(e.arg), d(e.arg))))


@_d.register
def _(e: LogSumExp, x, d):
    """d logsumexp(u) = softmax(u)ᵀ du."""
    return mul(transpose(Softmax(e.arg)), d(e.arg))


@_d.register
def _(e: Softmax, x, d):
    """d softmax(u) = (diag(s) − ssᵀ) du = s ⊙ du − s (sᵀdu), s = softmax(u)."""
    du = d(e.arg)
    return add(hadamard(e, du), neg(mul(e, mul(transpose(e), du))))


@_d.register
def _(e: ElemPower, x, d):
    """d(U.^p) = p U.^(p−1) ⊙ dU + (U.^p ⊙ log U) dp."""
    u, p = e.base, e.exponent
    du, dp = d(u), d(p)
    terms = []
    if not is_zero(du):
        terms.append(hadamard(mul(p, elempower(u, add(p, Const(Fraction(-1))))), du))
    if not is_zero(dp):
        terms.append(mul(hadamard(e, func("log", u)), dp))
    return add(*terms) if terms else Zero(e.shape)


def _ones_column(n) -> Expr:
    """𝟏 of length n (the number 1 when n = 1: rows of a single entry)."""
    return ONE if n == 1 else Ones((n, 1))


@_d.register
def _(e: SoftmaxRows, x, d):
    """Row by row: dS = S ⊙ dX − S ⊙ ((S ⊙ dX) 𝟏 𝟏ᵀ)."""
    dx = d(e.arg)
    if is_zero(dx):
        return Zero(e.shape)
    ones = _ones_column(e.shape[1])
    spread = mul(mul(hadamard(e, dx), ones), transpose(ones))
    return add(hadamard(e, dx), neg(hadamard(e, spread)))


@_d.register
def _(e: LogSumExpRows, x, d):
    """Row by row: d logsumexp(X) = (softmax(X) ⊙ dX) 𝟏."""
    dx = d(e.arg)
    if is_zero(dx):
        return Zero(e.shape)
    return mul(hadamard(SoftmaxRows(e.arg), dx), _ones_column(e.arg.shape[1]))


@_d.register
def _(e: Kron, x, d):
    """d(A ⊗ B) = dA ⊗ B + A ⊗ dB."""
    return add(kron(d(e.left), e.right), kron(e.left, d(e.right)))


@_d.register
def _(e: Vec, x, d):
    """Linear: d vec(X) = vec(dX)."""
    return vec(d(e.arg))


@_d.register
def _(e: Differential, x, d):
    raise NoRuleError("cannot differentiate a differential (dX) again")


def rule_step(e: Expr, x: Symbol, d) -> tuple[str, Expr]:
    """One rule applied to the node e (for step-by-step derivations): its name (the rule's
    docstring) and d e in terms of ``d(child)``, which the caller supplies."""
    rule = _d.dispatch(type(e))
    return (rule.__doc__ or type(e).__name__).strip().splitlines()[0], rule(e, x, d)


# ----- reading the gradient off the differential ------------------------------------------

def gradient(df: Expr, x: Symbol) -> Expr:
    """∇ with df = tr(∇ᵀ dx), for a scalar df linear in dx; shaped like x."""
    if is_zero(df):
        return Zero(x.shape)
    return add(*pullback(df, ONE, x)) if df.shape == () else _not_scalar(df)


def _not_scalar(df):   # pragma: no cover - callers check
    raise NoRuleError("a gradient needs a scalar-valued expression")


def pullback(L: Expr, G: Expr, x: Symbol) -> list[Expr]:
    """The adjoint of the linear map L(dx) applied to G: contributions to the gradient."""
    if is_zero(L):
        return []
    if G.shape == () and L.shape != ():
        G = mul(G, Ones(L.shape)) if not isinstance(G, Ones) else G
    return _pullback(L, G, x)


@singledispatch
def _pullback(L: Expr, G: Expr, x) -> list[Expr]:
    raise NoRuleError(f"internal: {type(L).__name__} is not linear in d{x.name}")


@_pullback.register
def _(L: Kron, G, x):
    """⟨G, M ⊗ B⟩ = ⟨(I ⊗ 𝟏ᵀ)(G ⊙ (𝟏 ⊗ B))(I ⊗ 𝟏), M⟩: each entry of M meets one p×q block
    of G (M m×n, B p×q); ⟨G, A ⊗ M⟩ = ⟨(𝟏ᵀ ⊗ I)(G ⊙ (A ⊗ 𝟏))(𝟏 ⊗ I), M⟩ likewise."""
    (m, n), (p, q) = L.left.shape, L.right.shape
    if _has_differential(L.left):
        g = hadamard(G, kron(Ones((m, n)), L.right))
        g = mul(kron(Identity(m), Ones((1, p))), g, kron(Identity(n), Ones((q, 1))))
        return pullback(L.left, g, x)
    g = hadamard(G, kron(L.left, Ones((p, q))))
    g = mul(kron(Ones((1, m)), Identity(p)), g, kron(Ones((n, 1)), Identity(q)))
    return pullback(L.right, g, x)


@_pullback.register
def _(L: Vec, G, x):
    """⟨g, vec(M)⟩ = ⟨unvec(g), M⟩, unvec(g) = (vec(Iₙ)ᵀ ⊗ Iₘ)(Iₙ ⊗ g) for M m×n."""
    m, n = L.arg.shape
    scalars = list(G.factors[:-1]) if isinstance(G, Mul) else []
    inner = G.factors[-1] if isinstance(G, Mul) else G
    if isinstance(inner, Vec) and inner.arg.shape == L.arg.shape and \
            all(f.shape == () for f in scalars):
        return pullback(L.arg, mul(*scalars, inner.arg), x)     # unvec(c vec(H)) = cH
    if n == 1:
        return pullback(L.arg, G, x)
    g = mul(kron(transpose(vec(Identity(n))), Identity(m)), kron(Identity(n), G))
    return pullback(L.arg, g, x)


@_pullback.register
def _(L: Differential, G, x):
    return [G]


@_pullback.register
def _(L: Add, G, x):
    """⟨G, A + B⟩ = ⟨G, A⟩ + ⟨G, B⟩; a broadcast scalar term collects sum(G)."""
    out = []
    for t in L.terms:
        out += pullback(t, sum_entries(G) if t.shape == () else G, x)
    return out


@_pullback.register
def _(L: Mul, G, x):
    """⟨G, A M B⟩ = ⟨Aᵀ G Bᵀ, M⟩ for a matrix M; ⟨G, m P⟩ = m ⟨G, P⟩ for a scalar m."""
    coeff, scalars, chain = decompose(L)
    parts = [Const(coeff)] + scalars + chain
    k = next(i for i, f in enumerate(parts) if _has_differential(f))
    f = parts[k]
    others = parts[:k] + parts[k + 1:]
    if f.shape == ():
        rest = mul(*others)
        inner = mul(G, rest) if G.shape == () else trace(mul(transpose(G), rest))
        return pullback(f, inner, x)
    kc = k - 1 - len(scalars)
    left, right = chain[:kc], chain[kc + 1:]
    scale = [p for p in others if p.shape == ()]
    new_g = mul(*scale, *[transpose(a) for a in reversed(left)], G,
                *[transpose(b) for b in reversed(right)])
    return pullback(f, new_g, x)


@_pullback.register
def _(L: Hadamard, G, x):
    """⟨G, H ⊙ M⟩ = ⟨H ⊙ G, M⟩."""
    k = next(i for i, f in enumerate(L.factors) if _has_differential(f))
    others = L.factors[:k] + L.factors[k + 1:]
    g = hadamard(G, *others)
    f = L.factors[k]
    return pullback(f, sum_entries(g) if f.shape == () else g, x)


@_pullback.register
def _(L: ElemDiv, G, x):
    """⟨G, M ./ B⟩ = ⟨G ./ B, M⟩."""
    g = elemdiv(G, L.den)
    return pullback(L.num, sum_entries(g) if L.num.shape == () else g, x)


@_pullback.register
def _(L: Transpose, G, x):
    """⟨G, Mᵀ⟩ = ⟨Gᵀ, M⟩."""
    return pullback(L.arg, transpose(G), x)


@_pullback.register
def _(L: Trace, G, x):
    """⟨g, tr M⟩ = ⟨g I, M⟩."""
    return pullback(L.arg, mul(G, Identity(L.arg.shape[0])), x)


@_pullback.register
def _(L: Sum, G, x):
    """⟨g, sum M⟩ = ⟨g 𝟏𝟏ᵀ, M⟩."""
    return pullback(L.arg, mul(G, Ones(L.arg.shape)), x)


@_pullback.register
def _(L: DiagMat, G, x):
    """⟨G, diag(v)⟩ = ⟨diag(G), v⟩."""
    return pullback(L.arg, diagvec(G), x)


@_pullback.register
def _(L: DiagVec, G, x):
    """⟨g, diag(M)⟩ = ⟨diag(g), M⟩."""
    return pullback(L.arg, diagmat(G), x)


@memo_on_node
def _has_differential(e: Expr) -> bool:
    return isinstance(e, Differential) or any(_has_differential(k) for k in e.children())
