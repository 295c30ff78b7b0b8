"""Taylor polynomials (MML 5.148): f(x₀) + ∇f(x₀)ᵀ(x − x₀) + ½(x − x₀)ᵀ∇²f(x₀)(x − x₀).

The terms are built from derivatives the engine has already computed (and verified
elsewhere), with x replaced by the expansion point x₀: a scalar x takes any order
(f⁽ᵏ⁾(x₀)(x − x₀)ᵏ/k!), a vector x orders up to 2, a matrix X order 1, and order 2
through the Kronecker form ½ vec(X − X₀)ᵀ M vec(X − X₀) where one exists.
"""
from __future__ import annotations

from fractions import Fraction
from math import factorial

from ..core.nodes import Const, Expr, Symbol, walk
from .simplify import add, mul, neg, power, trace, transpose, vec


def substitute(e: Expr, x: Symbol, by: Expr) -> Expr:
    """e with every occurrence of the symbol x replaced by ``by``."""
    memo: dict[int, Expr] = {}
    for node in walk(e):
        if isinstance(node, Symbol):
            memo[id(node)] = by if node.name == x.name else node
        elif node.children():
            kids = [memo[id(k)] for k in node.children()]
            memo[id(node)] = node if all(a is b for a, b in zip(kids, node.children())) \
                else node.rebuild(kids)
        else:
            memo[id(node)] = node
    return memo[id(e)]


def scalar_term(derivative: Expr, x: Symbol, x0: Symbol, k: int) -> Expr:
    """f⁽ᵏ⁾(x₀)(x − x₀)ᵏ/k!"""
    delta = add(x, neg(x0))
    return mul(Const(Fraction(1, factorial(k))), substitute(derivative, x, x0),
               power(delta, k) if k > 1 else delta)


def first_term(gradient: Expr, x: Symbol, x0: Symbol) -> Expr:
    """∇f(x₀)ᵀ(x − x₀), tr(∇f(X₀)ᵀ(X − X₀)) for a matrix."""
    delta = add(x, neg(x0))
    g = substitute(gradient, x, x0)
    if x.shape == ():
        return mul(g, delta)
    product = mul(transpose(g), delta)
    return product if x.shape[1] == 1 else trace(product)


def second_term(hessian: Expr, x: Symbol, x0: Symbol, kron: bool = False) -> Expr:
    """½(x − x₀)ᵀ∇²f(x₀)(x − x₀); with ``kron``: ½ vec(X − X₀)ᵀ M vec(X − X₀)."""
    delta = add(x, neg(x0))
    if kron:
        delta = vec(delta)
    H = substitute(hessian, x, x0)
    if x.shape == ():
        return mul(Const(Fraction(1, 2)), H, power(delta, 2))
    return mul(Const(Fraction(1, 2)), transpose(delta), H, delta)
