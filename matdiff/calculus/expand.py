"""--expand: a scalar polynomial multiplied out, terms in lexicographic order of the
variables (MML 5.7: ∂f/∂x₁ = 2x₁x₂ + x₂³).  Anything that is not a polynomial in scalar
symbols (a vector, exp, a negative power, …) is returned unchanged.  sympy does the
algebra; it loads only when expanding."""
from __future__ import annotations

from fractions import Fraction

from ..core.nodes import Add, Const, Expr, Mul, Power, Symbol, symbols_of, walk
from .simplify import add, mul, power


def is_polynomial(e: Expr) -> bool:
    for node in walk(e):
        if node.shape != ():
            return False
        if isinstance(node, Power) and (node.exponent < 0 or node.exponent.denominator != 1):
            return False
        if not isinstance(node, (Add, Mul, Power, Const, Symbol)):
            return False
    return True


def expand_polynomial(e: Expr) -> Expr:
    """e multiplied out, or e itself where it is not a scalar polynomial."""
    if not is_polynomial(e):
        return e
    import sympy as sp
    names = sorted(symbols_of(e))
    if not names:
        return e
    syms = {n: sp.Symbol(f"s{i}") for i, n in enumerate(names)}
    poly = sp.Poly(sp.expand(_to_sympy(e, syms)), *[syms[n] for n in names])
    symbols = symbols_of(e)
    terms = []
    for exponents, coeff in poly.terms():   # lexicographic, highest first
        c = Fraction(int(sp.numer(coeff)), int(sp.denom(coeff)))
        factors = [power(symbols[n], k) for n, k in zip(names, exponents) if k]
        terms.append(mul(Const(c), *factors))
    return add(*terms) if terms else Const(Fraction(0))


def _to_sympy(e: Expr, syms):
    import sympy as sp
    memo = {}
    for node in walk(e):
        k = [memo[id(c)] for c in node.children()]
        match node:
            case Symbol(name=n):
                memo[id(node)] = syms[n]
            case Const(value=v):
                memo[id(node)] = sp.Rational(v.numerator, v.denominator)
            case Add():
                memo[id(node)] = sp.Add(*k)
            case Mul():
                memo[id(node)] = sp.Mul(*k)
            case Power(exponent=x):
                memo[id(node)] = k[0] ** int(x)
    return memo[id(e)]
