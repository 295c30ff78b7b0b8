"""Stage 3b — backprop: the reverse pass through a program of definitions.

For statements ``n₁ = f₁(…); …; L = f_N(…)`` each δ is the upstream gradient ∂L/∂(value)
stored for one statement, and flows back statement by statement, every step a pullback
(``diff.pullback``: the gradient of tr(Gᵀ dY) read off the differential):

* δ of the output is 1;
* δⱼ = Σ over the statements k that use nⱼ of the pullback of their definition with δₖ;
  for a statement that is an entrywise activation of a pre-activation, nⱼ = f(Aⱼ), δⱼ is
  taken at Aⱼ (the notes' δ = ∂L/∂z): (Σ …) ⊙ f′(Aⱼ), printed with nⱼ for f(Aⱼ);
* ∂L/∂p = Σ over the statements k that use p of the pullback of their definition with δₖ.

Entry point: :func:`reverse_pass` (pure and symbolic; values and checks live in api).
A layer rule (vector–Jacobian product) is the same pullback with a given upstream G.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ..core.names import GREEK_NAMES, canonical_name, is_valid_name, name_parts
from ..core.nodes import ONE, Expr, Func, Softmax, SoftmaxRows, Symbol, Zero, symbols_of, walk
from .diff import DERIVATIVE, differential, pullback
from .simplify import add, simplify


@dataclass(frozen=True)
class Line:
    """One line of the reverse pass: ``target = expr``.

    ``kind`` is 'delta' (target is the δ of statement ``of``) or 'gradient' (target is a
    parameter, expr is ∂L/∂target); ``at`` is the pre-activation a δ is taken at (None
    when the δ is ∂L/∂ of the statement's value)."""
    kind: str
    target: Symbol
    of: str
    expr: Expr
    at: Expr | None = None


def delta_symbol(name: str, shape: tuple, taken: set[str]) -> Symbol:
    """δ of a statement, spelled so that it reads back: δ_h, δ_yhat (ŷ), δ^(H1) (H₁; a
    subscript cannot hold a letter and a digit, a label can)."""
    letter, accent, sub, label = name_parts(name)
    tag = GREEK_NAMES.get(letter, letter) + accent + sub + label.strip("()")
    spelled = "δ_" + tag if not any(ch.isdigit() for ch in tag) else "δ^(" + tag + ")"
    candidate = canonical_name(spelled)
    if not is_valid_name(candidate) or not tag.isascii():
        candidate = f"δ^({len(taken)})"
    while candidate in taken:
        candidate = candidate[:-1] + "d)" if candidate.endswith(")") else candidate + "d"
    return Symbol(candidate, shape)


def activation(body: Expr) -> Expr | None:
    """The pre-activation A when the definition is an activation of it that is not a lone
    name — entrywise (h = σ(W₁x + b₁)) or a softmax (p = softmax(W₂h)); else None."""
    if isinstance(body, (Func, Softmax, SoftmaxRows)) and not isinstance(body.arg, Symbol) \
            and (not isinstance(body, Func) or body.name in DERIVATIVE):
        return body.arg
    return None


def vjp(body: Expr, upstream: Expr, x: Symbol) -> Expr:
    """The pullback of Y = body with upstream G to x: the gradient of tr(Gᵀ Y) by x."""
    return add(*pullback(differential(body, x), upstream, x)) if x.name in \
        symbols_of(body) else None


def reverse_pass(names: list[str], definitions: dict[str, Expr], output: str,
                 parameters: list[Symbol], fold: Callable[[Expr], Expr]) -> list[Line]:
    """The δ of every statement the output depends on (last to first), each followed by
    the gradients of the parameters no earlier statement uses; every line simplified and
    folded into the defined names."""
    needed = _needed(names, definitions, output)
    moved = _moved(names, definitions, {p.name for p in parameters})
    order = [n for n in names if n in needed and (n in moved or n == output)]   # output last
    taken = set(names) | {s for d in definitions.values() for s in symbols_of(d)}
    stored = {output: definitions[output]}   # what each δ pulls back through
    deltas: dict[str, Expr] = {output: ONE}
    lines = _gradients(parameters, order, definitions, stored, deltas, fold, output)
    for name in reversed(order[:-1]):
        act = activation(definitions[name])
        users = [k for k in order if k in deltas and name in symbols_of(stored[k])]
        x = Symbol(name, definitions[name].shape)
        upstream = simplify(add(*[vjp(stored[k], deltas[k], x) for k in users]))
        if act is not None:   # δ at the pre-activation: through the activation too
            z = Symbol(_fresh(taken), act.shape)   # the name written out, so that
            upstream = _substitute(upstream, name, definitions[name])   # it can cancel
            local = vjp(definitions[name].rebuild((z,)), upstream, z)
            upstream = simplify(_substitute(local, z.name, act))
        stored[name] = act if act is not None else definitions[name]
        deltas[name] = delta_symbol(name, x.shape, taken)
        taken.add(deltas[name].name)
        lines.append(Line("delta", deltas[name], name, fold(upstream), act))
        lines += _gradients(parameters, order, definitions, stored, deltas, fold, output,
                            done={ln.target.name for ln in lines if ln.kind == "gradient"})
    return lines


def _gradients(parameters, order, definitions, stored, deltas, fold, output,
               done=frozenset()):
    """∂output/∂p for the parameters whose every use has its δ now."""
    out = []
    for p in parameters:
        users = [k for k in order if p.name in symbols_of(definitions[k])]
        if p.name in done or any(k not in deltas for k in users) or \
                (not users and len(deltas) < len(order)):
            continue
        grad = add(*[vjp(stored[k], deltas[k], p) for k in users]) if users else Zero(p.shape)
        out.append(Line("gradient", p, output, fold(simplify(grad))))
    return out


def _needed(names, definitions, output) -> set[str]:
    """The statements the output depends on (itself included)."""
    needed, todo = set(), [output]
    while todo:
        n = todo.pop()
        if n not in needed:
            needed.add(n)
            todo += [s for s in symbols_of(definitions[n]) if s in definitions]
    return needed


def _moved(names, definitions, parameters: set[str]) -> set[str]:
    """The statements that depend on a parameter (only their δ are needed)."""
    moved: set[str] = set()
    for n in names:
        if any(s in parameters or s in moved for s in symbols_of(definitions[n])):
            moved.add(n)
    return moved


def _fresh(taken: set[str]) -> str:
    return next(f"z_{i}" for i in range(1, 10_000) if f"z_{i}" not in taken)


def _substitute(e: Expr, name: str, by: Expr) -> Expr:
    memo: dict[int, Expr] = {}
    for node in walk(e):
        kids = node.children()
        memo[id(node)] = by if isinstance(node, Symbol) and node.name == name else \
            node.rebuild(memo[id(k)] for k in kids) if kids else node
    return memo[id(e)]
