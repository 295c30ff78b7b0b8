"""Stage 1 — parse: text as lecture notes write it → a surface expression tree.

The syntax lives in ``grammar/matdiff.lark`` (LALR); this module is the thin
Transformer over it plus the two things a grammar cannot know:

* how a run of letters splits into names (``Wx`` = W·x, ``W1x`` = W₁·x, ``alpha`` = α,
  declared multi-letter names first), and
* which norm bar opens and which closes (``‖a‖‖b‖``).

Symbols come out without shapes; :func:`matdiff.core.shapes.infer` gives them shapes.
Entry point: :func:`parse_surface`.  Errors are :class:`ParseError` with a caret.
"""
from __future__ import annotations

import difflib
import re
from fractions import Fraction
from functools import lru_cache

from ..core.errors import DomainError, MatdiffError, ParseError, UnknownFunctionError
from ..core.names import FUNCTION_NAMES, FUNCTIONS, GREEK, canonical_name, split_run
from ..core.nodes import (
    MINUS_ONE,
    Add,
    Const,
    Div,
    ElemDiv,
    Expr,
    Func,
    Hadamard,
    Identity,
    Inverse,
    Kron,
    Mul,
    Norm,
    Ones,
    Power,
    Symbol,
    Transpose,
    Zero,
    dim_product,
)

_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-")
_VULGAR = {"½": Fraction(1, 2), "⅓": Fraction(1, 3), "⅔": Fraction(2, 3), "¼": Fraction(1, 4),
           "¾": Fraction(3, 4), "⅕": Fraction(1, 5), "⅙": Fraction(1, 6), "⅛": Fraction(1, 8)}

OPEN, CLOSE = "\uE000", "\uE001"


# ----- pre-lexing passes (keep every column where it was) ---------------------------

def mark_norm_bars(text: str) -> str:
    """Replace each ‖ or || by an opener or closer mark of the same length.

    A bar closes when a norm is open and the previous token ends an operand; otherwise
    it opens (so ‖a‖‖b‖ is a product of two norms).
    """
    out, depth, i = [], 0, 0
    prev = ""
    while i < len(text):
        ch = text[i]
        width = 2 if text.startswith("||", i) else 1 if ch in "‖|" else 0
        if ch == "|" and width == 1:
            raise ParseError("a single '|' is not an operator: write ‖x‖ or ||x|| for a norm",
                             text, (i, i + 1))
        if width:
            closes = depth > 0 and prev not in ("", "op")
            out.append((CLOSE if closes else OPEN) * width)
            depth += -1 if closes else 1
            prev = "operand" if closes else "op"
            i += width
            continue
        out.append(ch)
        if not ch.isspace():
            prev = "op" if ch in "+-−–*/@·⋅⊙∘(,^" else "operand"
        i += 1
    return "".join(out)


def check_brackets(text: str) -> None:
    stack = []
    for i, ch in enumerate(text):
        if ch == "(":
            stack.append(i)
        elif ch == ")":
            if not stack:
                raise ParseError("unbalanced ')': there is no '(' to close", text, (i, i + 1))
            stack.pop()
    if stack:
        raise ParseError("unbalanced '(': it is never closed", text, (stack[-1], stack[-1] + 1))


_CALL_LIKE = re.compile(r"(?<![A-Za-z0-9_₀-₉{])([A-Za-z]{2,})\(")


def unknown_function(text: str, declared: frozenset[str]) -> UnknownFunctionError | None:
    """The first word used like a function that is not one, named with the nearest."""
    for m in _CALL_LIKE.finditer(text):
        word = m.group(1)
        if word in FUNCTIONS or word in GREEK or word in declared:
            continue
        close = difflib.get_close_matches(word.lower(), FUNCTION_NAMES, n=1, cutoff=0.6)
        if close or (word.islower() and len(word) >= 3):   # BSB(x) is a product
            hint = f"; did you mean '{close[0]}'?" if close else \
                f"; known functions: {', '.join(FUNCTION_NAMES)}"
            return UnknownFunctionError(f"unknown function '{word}'{hint}", text,
                                        (m.start(1), m.end(1)))
    return None


# ----- the parser -------------------------------------------------------------------

@lru_cache(maxsize=1)
def _lark():
    from lark import Lark

    from ..resources import grammar_path
    return Lark(grammar_path().read_text(encoding="utf-8"), parser="lalr",
                propagate_positions=True, maybe_placeholders=False, cache=True)


def _span(meta) -> tuple[int, int] | None:
    return (meta.start_pos, meta.end_pos) if not getattr(meta, "empty", True) else None


def _number(text: str, source: str = "", span=None) -> Fraction:
    if text in _VULGAR:
        return _VULGAR[text]
    try:
        return Fraction(text)
    except ZeroDivisionError:
        raise DomainError(f"{text} divides by zero", source, span) from None


def _size(text: str):
    """One dimension of a size subscript: 3, n, d1, m·n (a product, as Kronecker sizes)."""
    parts = [p for p in re.split(r"\s*[·*]\s*", text.strip().strip("{}")) if p]
    return dim_product(*(int(p) if p.isdigit() else p for p in parts))


def _sized(token: str, declared, source, span) -> Expr:
    """0_n, 0_(m×n), I_(m·n), 𝟏_(d1), 𝟏_(m×n) (the ones matrix), K_(m,n)."""
    from ..core.nodes import Commutation
    head, body = token[0], token.split("_", 1)[1]
    body = body.strip().removeprefix("(").removesuffix(")").strip("{} ")
    dims = [_size(d) for d in re.split(r"\s*(?:×|,|\\times)\s*", body)]
    if any(d == 0 for d in dims):
        raise ParseError(f"a size must be positive, got {token!r}", source, span)
    if head == "K":
        if len(dims) != 2:   # K_{1}: a name, not the commutation matrix
            return Symbol(canonical_name(token), span=span)
        return Commutation(*dims, span=span)
    if head == "0":
        return Zero((dims[0], dims[1] if len(dims) == 2 else 1), span=span)
    if head == "𝟏":
        return Ones((dims[0], dims[1] if len(dims) == 2 else 1), span=span)
    if len(dims) == 2 and dims[0] != dims[1]:
        raise ParseError(f"an identity matrix is square, got {token!r}", source, span)
    return Identity(dims[0], span=span)


def _postfix(base: Expr, op: str, span) -> Expr:
    """Decode a postfix token: transpose, inverse, inverse-transpose or a power."""
    op = re.sub(r"\s+", "", op).replace("\\top", "T").replace("⊤", "T")
    if op in ("ᵀ", "T", "'", "′", ".T", "^T", "^{T}"):
        return Transpose(base, span=span)
    if op in ("⁻ᵀ", "^-T", "^{-T}"):
        return Transpose(Inverse(base, span=span), span=span)
    exponent = op.lstrip("^").strip("{}()").translate(_SUPERSCRIPTS)
    k = Fraction(exponent)
    if k == -1:
        return Inverse(base, span=span)
    return Power(base, k, span=span)


def _make_transformer(source: str, declared: frozenset[str]):
    from lark import Transformer_NonRecursive as Transformer
    from lark import v_args

    grouped: set[int] = set()

    def chain_of(e):
        """Juxtaposed factors join one chain; a parenthesised product stays one factor."""
        if type(e) is Mul and id(e) not in grouped and e.factors[0] != MINUS_ONE:
            return e.factors
        return (e,)

    def terms_of(e):
        """a + b + c is one flat sum (so a 1,000-term sum is not 1,000 levels deep)."""
        return e.terms if type(e) is Add and id(e) not in grouped else (e,)

    @v_args(inline=True, meta=True)
    class ToExpr(Transformer):
        """Thin: one line per grammar alias, building the node of the same meaning."""

        def name(self, meta, token):
            pieces = [self._name(n, token.start_pos + a, token.start_pos + b)
                      for n, a, b in split_run(str(token), declared)]
            return pieces[0] if len(pieces) == 1 else Mul(tuple(pieces), span=_span(meta))

        @staticmethod
        def _name(n, a, b):
            letter, _, sub = n.partition("_")
            if letter in ("I", "𝟏") and sub and n not in declared and _size(sub) == 0:
                raise ParseError(f"a size must be positive, got {source[a:b]!r}", source,
                                 (a, b))
            if letter == "I" and "I" not in declared and n not in declared:
                return Identity(_size(sub) if sub else None, span=(a, b))   # I, I_n
            if letter == "𝟏":
                return Ones((_size(sub), 1) if sub else None, span=(a, b))   # 𝟏, 𝟏_n
            return Symbol(n, span=(a, b))

        def sized(self, meta, token):
            return _sized(str(token), declared, source, _span(meta))

        def number(self, meta, token):
            return Const(_number(str(token), source, _span(meta)), span=_span(meta))

        def group(self, meta, inner):
            grouped.add(id(inner))
            return inner

        def add(self, meta, left, _op, right):
            return Add(terms_of(left) + (right,), span=_span(meta))

        def sub(self, meta, left, _op, right):
            negated = Mul((MINUS_ONE, right), span=right.span)
            return Add(terms_of(left) + (negated,), span=_span(meta))

        def neg(self, meta, _op, arg):
            return Mul((MINUS_ONE, arg), span=_span(meta))

        def juxt(self, meta, left, right):
            return Mul(tuple(chain_of(left)) + tuple(chain_of(right)), span=_span(meta))

        def binop(self, meta, left, op, right):
            op, span = str(op), _span(meta)
            if op in ("⊙", "∘", ".*"):
                return Hadamard((left, right), span=span)
            if op == "./":
                return ElemDiv(left, right, span=span)
            if op == "/":
                return Div(left, right, span=span)
            if op == "⊗":
                return Kron(left, right, span=span)
            return Mul(tuple(chain_of(left)) + tuple(chain_of(right)), span=span)

        def postfix(self, meta, base, op):
            if type(base) is Mul and id(base) not in grouped:   # AXXᵀ: ᵀ binds to the last X
                last = base.factors[-1]
                span = (last.span[0], meta.end_pos) if last.span else _span(meta)
                return Mul(base.factors[:-1] + (_postfix(last, str(op), span),),
                           span=_span(meta))
            return _postfix(base, str(op), _span(meta))

        def call(self, meta, token, *args):
            fname = str(token)
            if canonical_name(fname) in declared:   # a declared σ multiplies
                symbol = Symbol(canonical_name(fname), span=(token.start_pos, token.end_pos))
                return Mul((symbol, *args), span=_span(meta))
            if len(args) != 1:
                raise ParseError(f"{fname} takes one argument, got {len(args)}", source,
                                 _span(meta))
            return self._apply(fname, args[0], _span(meta))

        def prefix_call(self, meta, fname, arg):
            return self._apply(str(fname), arg, _span(meta))

        @staticmethod
        def _apply(fname, arg, span):
            kind = FUNCTIONS[fname]
            return Func(kind, arg, span=span) if isinstance(kind, str) else kind(arg, span=span)

        def norm(self, meta, _open, arg, _close, sub=None):
            kind = None if sub is None else ("2" if "2" in sub or "₂" in sub else "F")
            return Norm(arg, kind, span=_span(meta))

    return ToExpr()


_WHERE = re.compile(r"(?:^|(?<=[\s,)]))where(?=\s)")
_DEFINITION = re.compile(r"\s*([^\s=;]+)\s*=")


def parse_surface(text: str, declared: frozenset[str] = frozenset()) -> Expr:
    """Parse text into a surface tree (symbols without shapes).

    A shared-name form as matdiff prints it reads back: ``main where t_1 = …; t_2 = …``
    (definitions separated by new lines, ';' or ','; each may use the earlier ones)."""
    if not isinstance(text, str) or not _WHERE.search(text):
        return _parse_one(text, declared)
    where = _WHERE.search(text)
    blank = lambda a, b: "".join(c if c == "\n" else " " for c in text[:a]) + text[a:b]  # noqa: E731
    main = _parse_one(blank(0, where.start()), declared, text)
    definitions: dict[str, Expr] = {}
    pos = where.end()
    pieces = [(m.start(), m.end()) for m in re.finditer(r"[^\n;]+", text[pos:])]
    for a, b in pieces:
        a, b = pos + a, pos + b
        chunk = text[a:b].rstrip().rstrip(",")
        if not chunk.strip():
            continue
        m = _DEFINITION.match(chunk)
        if not m:
            raise ParseError("after 'where' comes a definition such as t_1 = tanh(x)", text,
                             (a, b))
        name = canonical_name(m.group(1))
        body = _parse_one(blank(a + m.end(), a + len(chunk)), declared, text)
        definitions[name] = _substitute(body, definitions)
    return _substitute(main, definitions)


def _substitute(e: Expr, definitions: dict[str, Expr]) -> Expr:
    """e with each defined name replaced by its definition (one shared subtree)."""
    if not definitions:
        return e
    memo: dict[int, Expr] = {}
    from ..core.nodes import walk
    for node in walk(e):
        if isinstance(node, Symbol) and node.name in definitions:
            memo[id(node)] = definitions[node.name]
            continue
        kids = node.children()
        memo[id(node)] = node.rebuild(memo[id(k)] for k in kids) if kids else node
    return memo[id(e)]


def _parse_one(text: str, declared: frozenset[str], source: str | None = None) -> Expr:
    from lark.exceptions import UnexpectedCharacters, UnexpectedInput, VisitError

    if not isinstance(text, str):
        raise ParseError(f"expected the expression as a string, got {type(text).__name__}")
    if not text.strip():
        raise ParseError("empty expression: nothing to read", text, (0, max(1, len(text))))
    check_brackets(text)
    marked = mark_norm_bars(text)
    unknown = unknown_function(marked, declared)
    try:
        tree = _lark().parse(marked)
    except UnexpectedCharacters as e:
        ch = text[e.pos_in_stream]
        error = ParseError(f"unexpected character {ch!r}", text,
                           (e.pos_in_stream, e.pos_in_stream + 1))
        raise _first(unknown, error) from None
    except UnexpectedInput as e:
        raise _first(unknown, _token_error(text, e)) from None
    if unknown is not None:
        raise unknown
    try:
        return _make_transformer(text, declared).transform(tree)
    except VisitError as e:
        if isinstance(e.orig_exc, MatdiffError):
            raise e.orig_exc from None
        raise


def _first(a: ParseError | None, b: ParseError) -> ParseError:
    """Of two errors, the one further left in the source."""
    return a if a is not None and a.span[0] < b.span[0] else b


def _token_error(text: str, e) -> ParseError:
    token = getattr(e, "token", None)
    if token is None or token.type == "$END":
        end = len(text.rstrip())
        return ParseError("unexpected end of input: an operand is missing", text,
                          (max(0, end - 1), max(1, end)))
    shown = text[token.start_pos:token.end_pos]
    expected = getattr(e, "expected", set()) or set()
    what = "operator" if token.type in ("PLUS", "MINUS", "MULOP") else "token"
    hint = ": an operand is missing before it" if what == "operator" or token.type == "RPAR" \
        and "RPAR" not in expected else ""
    return ParseError(f"unexpected {what} {shown!r}{hint}", text,
                      (token.start_pos, token.end_pos))
