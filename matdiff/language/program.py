"""Programs of definitions: ``h = σ(W₁x + b₁); ŷ = W₂h + b₂; L = ½‖ŷ − y‖²``.

Statements are separated by ``;``, newlines or LaTeX's ``\\\\``; each is ``name = expression``
over the names defined before it (plain text or LaTeX, read by the expression parser).
:func:`parse_statements` reads the text (statement level: ``grammar/program.lark``) into
ordered :class:`Statement` s with surface trees; :func:`expand` substitutes the
definitions into one statement, so shapes flow through them; :func:`fold` writes a result
back in terms of the defined names ((ŷ − y)hᵀ rather than (W₂σ(W₁x + b₁) + b₂ − y)σ(…)ᵀ).

The structure a later stage (backprop) walks: ``Program.statements`` in order, each a
name and an expression over earlier names and free symbols.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable

from ..core.errors import MatdiffError, ParseError
from ..core.names import canonical_name, is_valid_name
from ..core.nodes import Add, Const, Expr, Mul, Symbol, Transpose, walk

def is_program(text) -> bool:
    """A text with a definition (``name = …``, an '=' outside braces: \\sum_{i=1} is no
    definition) is a program."""
    if not isinstance(text, str):
        return False
    depth = 0
    for ch in text:
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if ch == "=" and depth == 0:
            return True
    return False


@dataclass(frozen=True)
class Statement:
    """``name = expr``; ``span`` is where the expression sits in the program text;
    ``notes`` say how a reading was decided (f(x) = … names f)."""
    name: str
    surface: Expr
    source: str
    span: tuple[int, int]
    notes: tuple[str, ...] = ()


@lru_cache(maxsize=1)
def _lark():
    from lark import Lark

    from ..resources import grammar_path
    return Lark(grammar_path().with_name("program.lark").read_text(encoding="utf-8"),
                parser="lalr", propagate_positions=True)


def parse_statements(text: str, read: Callable[[str, frozenset], Expr],
                     declared: frozenset[str] = frozenset()) -> list[Statement]:
    """The statements of a program in order; ``read`` parses one expression."""
    from lark.exceptions import UnexpectedInput
    try:
        tree = _lark().parse(text)
    except UnexpectedInput as e:
        pos = getattr(e, "pos_in_stream", None) or 0
        raise ParseError("a program is statements 'name = expression' separated by ';' or "
                         "new lines", text, (pos, pos + 1)) from None
    statements: list[Statement] = []
    for stmt in tree.children:
        lhs, rhs = stmt.children
        statements.append(_statement(text, lhs, rhs, read, declared, statements))
    if not statements:
        raise ParseError("empty program: nothing to read", text, (0, max(1, len(text))))
    return statements


def _statement(text, lhs, rhs, read, declared, earlier) -> Statement:
    raw = str(lhs).strip()
    call = re.fullmatch(r"(.+?)\s*(?:\\left)?\((.*)\)", raw)   # f(x) = Ax, L(\theta) = …
    raw = call.group(1) if call else raw
    name = canonical_name(raw)
    lhs_span = (lhs.start_pos, lhs.start_pos + len(str(lhs).rstrip()))
    if not is_valid_name(raw):
        raise ParseError(f"the left side of a definition must be a name, got {raw!r}", text,
                         lhs_span)
    if any(s.name == name for s in earlier):
        raise ParseError(f"{raw} is defined twice", text, lhs_span)
    start = rhs.start_pos
    body = str(rhs)
    known = declared | {s.name for s in earlier}
    try:
        surface = read(body, frozenset(known))
    except MatdiffError as e:   # point into the whole program
        span = (e.span[0] + start, e.span[1] + start) if e.span else (start, rhs.end_pos)
        raise type(e)(e.message, text, span) from None
    notes = []
    if call:
        notes.append(f"{str(lhs).strip()} = …: the statement defines {name}; the argument "
                     f"list is not used")
    if re.search(r"\\sum(?!\s*_)", body):
        notes.append(f"{name}: \\sum without an index is the sum of all entries, its "
                     f"summand read entrywise ((Ŷ − Y)^2 squares each entry)")
    return Statement(name, _shift(surface, start), text, (start, rhs.end_pos), tuple(notes))


def _shift(e: Expr, offset: int) -> Expr:
    """The tree with every span moved by offset (into the whole program's text)."""
    memo: dict[int, Expr] = {}
    for node in walk(e):
        kids = tuple(memo[id(k)] for k in node.children())
        new = node.rebuild(kids) if kids else node.rebuild(())
        span = None if node.span is None else (node.span[0] + offset, node.span[1] + offset)
        object.__setattr__(new, "span", span)
        memo[id(node)] = new
    return memo[id(e)]


def _replace_run(chain: Mul, run: tuple, name: Expr) -> Expr:
    """A B C D with the run B C → A n D (the first occurrence)."""
    f, k = chain.factors, len(run)
    for j in range(len(f) - k + 1):
        if f[j:j + k] == run:
            return Mul(f[:j] + (name,) + f[j + k:], span=chain.span)
    return chain


def substitute(e: Expr, definitions: dict[str, Expr]) -> Expr:
    """e with every Symbol named in definitions replaced by its definition."""
    memo: dict[int, Expr] = {}
    for node in walk(e):
        if isinstance(node, Symbol) and node.name in definitions:
            memo[id(node)] = definitions[node.name]
            continue
        kids = node.children()
        memo[id(node)] = node.rebuild(memo[id(k)] for k in kids) if kids else node
    return memo[id(e)]


def expand(statements: list[Statement], upto: int) -> Expr:
    """Statement ``upto``'s surface tree with all earlier definitions substituted."""
    expanded: dict[str, Expr] = {}
    for s in statements[:upto + 1]:
        expanded[s.name] = substitute(s.surface, expanded)
    return expanded[statements[upto].name]


def fold(e: Expr, definitions: list[tuple[Symbol, Expr, Expr]]) -> Expr:
    """e written with the defined names: each definition (name, a typed, simplified tree
    over earlier names, and its simplified transpose) that appears in e — as a subtree,
    or as some of the terms of a sum — becomes its name (or the name transposed).
    Definitions are tried in order, so later ones see earlier names."""
    for name, body, body_t in definitions:
        e = _replace(e, body, name)
        if body_t != body:
            e = _replace(e, body_t, Transpose(name))
    return e


def _replace(e: Expr, body: Expr, name: Expr) -> Expr:
    """e with body (a subtree, some terms of a sum, or a run of a matrix chain) → name."""
    memo: dict[int, Expr] = {}
    wanted = Counter(body.terms) if isinstance(body, Add) else None
    run = body.factors if isinstance(body, Mul) and \
        not any(isinstance(f, Const) for f in body.factors) else None
    for node in walk(e):
        kids = node.children()
        new = node.rebuild(memo[id(k)] for k in kids) if kids else node
        if new == body:
            new = name
        elif run is not None and isinstance(new, Mul):
            new = _replace_run(new, run, name)
        elif wanted is not None and isinstance(new, Add):
            have = Counter(new.terms)
            if all(have[t] >= n for t, n in wanted.items()):
                rest = list(new.terms)
                for t, n in wanted.items():
                    for _ in range(n):
                        rest.remove(t)
                new = Add((name, *rest), span=new.span) if rest else name
        memo[id(node)] = new
    return memo[id(e)]


def _replace_run(chain: Mul, run: tuple, name: Expr) -> Expr:
    """A B C D with the run B C → A n D (the first occurrence)."""
    f, k = chain.factors, len(run)
    for j in range(len(f) - k + 1):
        if f[j:j + k] == run:
            return Mul(f[:j] + (name,) + f[j + k:], span=chain.span)
    return chain
