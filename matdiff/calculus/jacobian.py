"""Matrix forms of derivatives of any rank, read off the differential dF.

dF is linear in dX.  Three readings of it:

* :func:`coefficient` — the Jacobian J with dF = J dx, for a vector (or scalar) F and a
  vector x: A dx → A; v ⊙ (A dx) → diag(v)A; f·(gᵀdx) → f gᵀ.  Numerator layout.
* :func:`vec_jacobian` — the vec/Kronecker form M with vec(dF) = M vec(dX), for any F and
  a matrix X: L dX R → (Rᵀ ⊗ L); L dXᵀ R → (Rᵀ ⊗ L)K; V ⊙ E → diag(vec V)·(form of E).
* :func:`by_scalar` — for a scalar variable, dF = F′ dα: F′ is dF with dα = 1.

Each returns None when a term has no such form; the differential and the index notation
(:mod:`matdiff.index`) are always available.
"""
from __future__ import annotations

from ..core.nodes import (
    ONE,
    Add,
    Commutation,
    Const,
    DiagMat,
    Differential,
    ElemDiv,
    Expr,
    Hadamard,
    Identity,
    Mul,
    Ones,
    Symbol,
    Transpose,
    Zero,
    dim_product,
)
from .diff import _has_differential, pullback
from .simplify import (
    add,
    decompose,
    diagmat,
    elemdiv,
    hadamard,
    is_zero,
    kron,
    mul,
    simplify,
    transpose,
    vec,
)


def _row(s: Expr, x: Symbol) -> Expr:
    """The row g with s = g dx, for a scalar s linear in dx."""
    return transpose(add(*pullback(s, ONE, x)) if not is_zero(s) else Zero(x.shape))


def _split(e: Mul):
    """(scalars, chain, index of the part holding dX, the parts in order)."""
    coeff, scalars, chain = decompose(e)
    parts = [Const(coeff)] + scalars + chain
    k = next(i for i, f in enumerate(parts) if _has_differential(f))
    return parts, k, len(scalars) + 1


# ----- vector by vector: the Jacobian -------------------------------------------------------

def coefficient(T: Expr, x: Symbol) -> Expr | None:
    """J with T = J dx (T a column or scalar linear in dx, x a vector), or None."""
    m = T.shape[0] if T.shape != () else 1
    if is_zero(T):
        return Zero((m, x.shape[0]))
    if T.shape == ():
        return _row(T, x)
    match T:
        case Differential():
            return Identity(x.shape[0])
        case Add(terms=ts):
            parts = [mul(Ones((m, 1)), _row(t, x)) if t.shape == () else coefficient(t, x)
                     for t in ts]
            return None if any(p is None for p in parts) else add(*parts)
        case Mul():
            parts, k, first_chain = _split(T)
            others = parts[:k] + parts[k + 1:]
            if parts[k].shape == ():
                return mul(*others, _row(parts[k], x))
            left, right = parts[first_chain:k], parts[k + 1:]
            scalars = parts[:first_chain]
            if not right:
                inner = coefficient(parts[k], x)
                return None if inner is None else mul(*scalars, *left, inner)
            if isinstance(parts[k], DiagMat):   # diag(dv) w = diag(w) dv
                inner = coefficient(parts[k].arg, x)
                return None if inner is None else mul(*scalars, *left, diagmat(mul(*right)),
                                                      inner)
            return None
        case Hadamard(factors=fs):
            k = next(i for i, f in enumerate(fs) if _has_differential(f))
            if fs[k].shape == ():
                return None
            inner = coefficient(fs[k], x)
            v = hadamard(*(fs[:k] + fs[k + 1:]))
            return None if inner is None else mul(diagmat(v), inner)
        case ElemDiv(num=a, den=b):
            inner = coefficient(a, x) if a.shape != () else None
            return None if inner is None else mul(diagmat(elemdiv(ONE, b)), inner)
    return None


# ----- anything by a matrix: the vec/Kronecker form ------------------------------------------

def vec_jacobian(T: Expr, X: Symbol) -> Expr | None:
    """M with vec(T) = M vec(dX), or None."""
    rows = dim_product(*T.shape) if T.shape != () else 1
    if is_zero(T):
        return Zero((rows, dim_product(*X.shape)))
    if T.shape == ():
        return transpose(vec(add(*pullback(T, ONE, X))))
    match T:
        case Differential():
            return Identity(dim_product(*X.shape))
        case Transpose(arg=Differential()):
            m, n = X.shape
            return Identity(dim_product(m, n)) if 1 in (m, n) else Commutation(m, n)
        case Transpose(arg=a):   # vec(Aᵀ) = K₍ₘ,ₙ₎ vec(A) for an m×n A
            inner = vec_jacobian(a, X)
            m, n = a.shape
            if inner is None:
                return None
            return inner if 1 in (m, n) else mul(Commutation(m, n), inner)
        case Add(terms=ts):
            parts = [mul(Ones((rows, 1)), vec_jacobian(t, X)) if t.shape == () else
                     vec_jacobian(t, X) for t in ts]
            return None if any(p is None for p in parts) else add(*parts)
        case Mul():
            parts, k, first_chain = _split(T)
            others = parts[:k] + parts[k + 1:]
            if parts[k].shape == ():   # M s(dX) with s = tr(Gᵀ dX): vec(M) vec(G)ᵀ
                return mul(vec(mul(*others)), vec_jacobian(parts[k], X))
            left, right = parts[first_chain:k], parts[k + 1:]
            p = parts[k]
            if isinstance(p, Transpose) and isinstance(p.arg, Differential) and right \
                    and T.shape[1] == 1:   # L dXᵀ r = (L ⊗ rᵀ) vec dX
                L = mul(*left) if left else Identity(p.shape[0])
                return mul(*parts[:first_chain], kron(L, transpose(mul(*right))))
            inner = vec_jacobian(p, X)
            if inner is None:
                return None
            p, q = parts[k].shape
            L = mul(*left) if left else Identity(p)
            R = transpose(mul(*right)) if right else Identity(q)
            outer = kron(R, L) if T.shape[1] != 1 or right else kron(ONE, L)
            return mul(*parts[:first_chain], outer, inner)
        case Hadamard(factors=fs):
            k = next(i for i, f in enumerate(fs) if _has_differential(f))
            inner = vec_jacobian(fs[k], X) if fs[k].shape != () else None
            v = hadamard(*(fs[:k] + fs[k + 1:]))
            return None if inner is None else mul(diagmat(vec(v)), inner)
        case ElemDiv(num=a, den=b):
            inner = vec_jacobian(a, X) if a.shape != () else None
            return None if inner is None else mul(diagmat(vec(elemdiv(ONE, b))), inner)
    return None


# ----- by a scalar -----------------------------------------------------------------------

def by_scalar(dF: Expr, x: Symbol) -> Expr:
    """F′ with dF = F′ dα: every dα set to 1."""
    from ..core.nodes import walk
    memo: dict[int, Expr] = {}
    for node in walk(dF):
        if isinstance(node, Differential):
            memo[id(node)] = ONE
        else:
            kids = node.children()
            memo[id(node)] = node.rebuild(memo[id(k)] for k in kids) if kids else node
    return simplify(memo[id(dF)])
