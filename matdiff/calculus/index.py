"""Index notation of a derivative of any rank, read off the differential.

A term L·dX·R of dF gives ∂F_ij/∂X_kl = L_ik R_lj (an empty side is a Kronecker δ);
L·dXᵀ·R gives L_il R_kj; a Hadamard factor V contributes V_ij; a scalar factor s(dX)
with s = tr(Gᵀ dX) gives M_ij G_kl.  Any other term is written as the differential
evaluated at dX = e_k e_lᵀ, so index notation never fails.
"""
from __future__ import annotations

from ..core.nodes import (
    MINUS_ONE,
    ONE,
    Add,
    Differential,
    Expr,
    Hadamard,
    Identity,
    Mul,
    Ones,
    Symbol,
    Transpose,
)
from ..language.render import to_latex, to_pretty
from .diff import _has_differential, pullback
from .jacobian import _split
from .simplify import add, hadamard, mul, simplify, transpose

_SUB = {"i": "ᵢ", "j": "ⱼ", "k": "ₖ", "l": "ₗ", "a": "ₐ", "e": "ₑ", "o": "ₒ", "x": "ₓ",
        "h": "ₕ", "m": "ₘ", "n": "ₙ", "p": "ₚ", "s": "ₛ", "t": "ₜ", "r": "ᵣ", "u": "ᵤ",
        "v": "ᵥ"}


class _Style:
    def __init__(self, latex: bool):
        self.latex = latex

    def sub(self, base: str, idx: str) -> str:
        if not idx:
            return base
        if self.latex:
            return f"{base}_{{{idx}}}"
        if all(c in _SUB for c in idx):
            return base + "".join(_SUB[c] for c in idx)
        return f"{base}_{idx}" if len(idx) == 1 else f"{base}_{{{idx}}}"

    def expr(self, e: Expr) -> str:
        return to_latex(e) if self.latex else to_pretty(e)

    def delta(self, a: str, b: str) -> str:
        if not a and not b:
            return ""
        return self.sub("\\delta" if self.latex else "δ", a + b)


def entry(M: Expr, r: str, c: str, st: _Style) -> str:
    """M_rc, with a vector's trivial index dropped and Aᵀ_rc written A_cr."""
    if M.shape == ():
        return st.expr(M)
    rows, cols = M.shape
    r, c = (r if rows != 1 else ""), (c if cols != 1 else "")
    if isinstance(M, Identity):
        return st.delta(r, c)
    if isinstance(M, Symbol):
        return st.sub(st.expr(M), r + c)
    if isinstance(M, Transpose) and isinstance(M.arg, Symbol):
        return st.sub(st.expr(M.arg), c + r)
    text = st.expr(M)
    return st.sub(f"({text})" if len(text) > 1 else text, r + c)


def term(T: Expr, X: Symbol, fi: str, fj: str, xk: str, xl: str, st: _Style) -> str | None:
    match T:
        case Differential():
            return _join([st.delta(fi, xk) if fi or xk else "", st.delta(fj, xl) if fj or xl
                          else ""])
        case Transpose(arg=Differential()):
            return _join([st.delta(fi, xl), st.delta(xk, fj)])
        case Hadamard(factors=fs):
            k = next(i for i, f in enumerate(fs) if _has_differential(f))
            inner = term(fs[k], X, fi, fj, xk, xl, st)
            v = hadamard(*(fs[:k] + fs[k + 1:]))
            return None if inner is None else _join([entry(v, fi, fj, st), inner])
        case Mul():
            parts, k, first = _split(T)
            p = parts[k]
            if isinstance(p, Add):   # (dx − …)/‖x‖: one term per summand
                pieces = [term(mul(*parts[:k], _broadcast(t, p), *parts[k + 1:]), X, fi, fj,
                               xk, xl, st)
                          for t in p.terms if _has_differential(t)]
                return None if None in pieces else " + ".join(pieces)
            c = mul(*parts[:first])
            scale = [] if c == ONE else ["−"] if c == MINUS_ONE else [st.expr(c)]
            if p.shape == ():
                g = simplify(add(*pullback(p, ONE, X)))
                rest = mul(*(parts[:k] + parts[k + 1:]))
                return _join([entry(rest, fi, fj, st), entry(g, xk, xl, st)])
            left, right = parts[first:k], parts[k + 1:]
            if isinstance(p, Differential):
                a, b = xk, xl
            elif isinstance(p, Transpose) and isinstance(p.arg, Differential):
                a, b = xl, xk
            else:
                return None
            L = entry(mul(*left), fi, a, st) if left else st.delta(fi, a)
            R = entry(mul(*right), b, fj, st) if right else st.delta(b, fj)
            return _join(scale + [L, R])
    return None


def _broadcast(t: Expr, total: Expr) -> Expr:
    """A scalar term of a matrix sum stands for t𝟏𝟏ᵀ: it keeps its place in a chain."""
    return mul(t, Ones(total.shape)) if t.shape == () and total.shape != () else t


def _letters(letters: str) -> str:
    """The user's index letters, padded with unused ones from ijklmnpq."""
    chosen = [c for c in str(letters) if c.isalpha()]
    if len(set(chosen)) != len(chosen):
        from ..core.errors import MatdiffError
        raise MatdiffError(f"index letters must differ, got {letters!r}")
    return "".join(chosen + [c for c in "ijklmnpq" if c not in chosen])


def _gradient_entry(dF: Expr, X: Symbol, k: str, m: str, st: _Style) -> str:
    """The (k, m) entry of the gradient G with dF = tr(Gᵀ dX): Gₖₘ, or (Gᵀ)ₘₖ where Gᵀ
    prints with fewer transposes — ∂tr(AXB)/∂Xᵢⱼ = (BA)ⱼᵢ."""
    G = simplify(add(*pullback(dF, ONE, X)))
    Gt = simplify(transpose(G))
    plain, flipped = entry(G, k, m, st), entry(Gt, m, k, st)
    marks = ("^{\\top}", "^{-\\top}") if st.latex else ("ᵀ", "⁻ᵀ")
    count = lambda t: sum(t.count(mk) for mk in marks)   # noqa: E731
    return flipped if count(flipped) < count(plain) else plain


def _join(parts: list[str]) -> str:
    text = " ".join(p for p in parts if p) or "1"
    return text.replace("− ", "−", 1) if text.startswith("− ") else text


def index_notation(F: Expr, X: Symbol, dF: Expr, latex: bool = False,
                   letters: str = "ijkl") -> str:
    """∂F_ij/∂X_kl = … for the derivative of F with respect to X, in the given index
    letters (the first ones name F's indices, the rest X's)."""
    st = _Style(latex)
    letters = iter(_letters(letters))
    f_idx = [next(letters) if F.shape != () and d != 1 else "" for d in (F.shape or (1, 1))]
    x_idx = [next(letters) if X.shape != () and d != 1 else "" for d in (X.shape or (1, 1))]
    fi, fj = f_idx
    xk, xl = x_idx
    terms = dF.terms if isinstance(dF, Add) else (dF,)
    pieces = [term(t, X, fi, fj, xk, xl, st) for t in terms] if _has_differential(dF) else ["0"]
    if any(p is None for p in pieces) and F.shape == ():
        rhs = _gradient_entry(dF, X, xk, xl, st)   # ∂f/∂Xᵢⱼ = Gᵢⱼ, or (Gᵀ)ⱼᵢ if shorter
    elif any(p is None for p in pieces):
        d = "d" + st.expr(X)
        at = f"{d} = e_{xk}" + (f" e_{xl}ᵀ" if xl else "")
        if latex:
            at = f"{d} = e_{{{xk}}}" + (f" e_{{{xl}}}^\\top" if xl else "")
        rhs = f"{entry(dF, fi, fj, st)} at {at}"
    else:
        rhs = " + ".join(pieces)
    f_text = st.expr(F)
    f_text = f_text if isinstance(F, Symbol) else f"({f_text})"
    num = st.sub(f_text, fi + fj)
    den = st.sub(st.expr(X), xk + xl)
    if latex:
        return f"\\frac{{\\partial {num}}}{{\\partial {den}}} = {rhs}"
    return f"∂{num}/∂{den} = {rhs}"
