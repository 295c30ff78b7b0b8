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
import unicodedata
from fractions import Fraction
from functools import lru_cache

from ..core.errors import DomainError, MatdiffError, ParseError, UnknownFunctionError
from ..core.names import (
    CONSTANT_WORDS,
    FUNCTION_NAMES,
    FUNCTIONS,
    GREEK,
    SPECIAL_FUNCTIONS,
    canonical_name,
    split_run,
)
from ..core.nodes import (
    MINUS_ONE,
    Add,
    Const,
    Div,
    ElemDiv,
    ElemPower,
    Expr,
    Func,
    Hadamard,
    Identity,
    Inverse,
    LogSumExpRows,
    Kron,
    Mul,
    Norm,
    Ones,
    Power,
    SoftmaxRows,
    Sum,
    Symbol,
    Transpose,
    Zero,
    dim_product,
)
from .dialects import (
    DIALECT_FUNCTIONS,
    check_syntax,
    const_value,
    dialect_names,
    grammar_for,
)

_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-")
_VULGAR = {"½": Fraction(1, 2), "⅓": Fraction(1, 3), "⅔": Fraction(2, 3), "¼": Fraction(1, 4),
           "¾": Fraction(3, 4), "⅕": Fraction(1, 5), "⅙": Fraction(1, 6), "⅛": Fraction(1, 8)}

OPEN, CLOSE, SKIP, SIGMA = "\uE000", "\uE001", "\uE002", "\uE003"


# ----- normalisation (one character for one character, so carets stay in place) ----------

# Characters whose compatibility form would change their meaning in the notation.
_KEEP = set("⁰¹²³⁴⁵⁶⁷⁸⁹⁻ᵀ½⅓⅔¼¾⅕⅙⅛𝟏₀₁₂₃₄₅₆₇₈₉")
_SAME = {"ㆍ": "·", "・": "·", "𝟙": "𝟏", "\u3000": " "}   # Korean middle dot, ones vector


def normalize(text: str) -> str:
    """NFKC per character (full-width （Ａx） is (Ax), 𝐱 is x), ㆍ as the product dot and 𝟙
    as the ones vector 𝟏 — but only where one character becomes one character, so every
    column of an error caret still points at the user's text."""
    out = []
    for ch in text:
        if ch in _SAME:
            out.append(_SAME[ch])
            continue
        folded = ch if ch in _KEEP or ch.isascii() else unicodedata.normalize("NFKC", ch)
        out.append(folded if len(folded) == 1 else ch)
    return "".join(out)


_OPERATORS = "+-−–*/@·⋅⊙∘(,^="
_CONTINUES = "+-−–*/@·⋅⊙∘),"


def check_lines(text: str) -> None:
    """A newline never multiplies: formulas on separate lines are separate formulas."""
    for m in re.finditer(r"\n", text):
        before, after = text[:m.start()].rstrip(), text[m.end():].lstrip()
        if not before or not after:
            continue
        if before[-1] in _OPERATORS or after[0] in _CONTINUES:
            continue   # one formula broken across lines: a + ⏎ b
        raise ParseError("a line break separates two formulas, and matdiff reads one "
                         "expression: put it on one line, or write definitions "
                         "(h = …; L = …) where they are supported", text,
                         (m.start(), m.start() + 1))


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
        double = width == 2
        if ch == "|" and width == 1:
            raise ParseError("a single '|' is not an operator: write ‖x‖ or ||x|| for a norm",
                             text, (i, i + 1))
        if width:
            closes = depth > 0 and prev not in ("", "op")
            out.append((CLOSE if closes else OPEN) + (SKIP if double else ""))
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


_CALL_LIKE = re.compile(r"(?<![A-Za-z0-9_₀-₉{^\\])([A-Za-z]{2,})\(")


def unknown_function(text: str, declared: frozenset[str]) -> UnknownFunctionError | None:
    """The first word used like a function that is not one, named with the nearest."""
    for m in _CALL_LIKE.finditer(text):
        word = m.group(1)
        if word in FUNCTIONS or word in SPECIAL_FUNCTIONS or word in GREEK or word in declared or \
                any(word[i:] in FUNCTIONS or word[i:] in SPECIAL_FUNCTIONS for i in range(1, len(word) - 1)):
            continue   # Wtanh(x) is W·tanh(x)
        close = difflib.get_close_matches(word.lower(), FUNCTION_NAMES, n=1, cutoff=0.6)
        if word.isupper():   # BSB(x) is a product
            continue
        if word in DIALECT_FUNCTIONS["sympy"]:
            return UnknownFunctionError(f"{word}(…) is SymPy's syntax: read it with "
                                        f"syntax='sympy' (--syntax sympy)", text,
                                        (m.start(1), m.end(1)))
        if close or (word.islower() and len(word) >= 3):
            hint = f"; did you mean '{close[0]}'?" if close else \
                f"; known functions: {', '.join(FUNCTION_NAMES)}"
            return UnknownFunctionError(f"unknown function '{word}'{hint}", text,
                                        (m.start(1), m.end(1)))
    return None


LONE_CARET = ("'^' needs what it raises to: x^T (transpose), X^-1 (inverse), x^2 (power), "
              "or a label on a name: h^{(k)}, W^{(3)}, h^k")


# ----- the parser -------------------------------------------------------------------

@lru_cache(maxsize=4)
def _lark(syntax: str = "matdiff"):
    from lark import Lark

    from ..resources import grammar_path
    return Lark(grammar_for(grammar_path().read_text(encoding="utf-8"), syntax),
                parser="lalr", propagate_positions=True, maybe_placeholders=False,
                cache=syntax == "matdiff")


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


def _make_transformer(source: str, declared: frozenset[str], notes: list[str], syntax: str = "matdiff"):
    from lark import Transformer_NonRecursive as Transformer
    from lark import v_args

    grouped: set[int] = set()
    bracketed: set[int] = set()   # f(…), (…) and ‖…‖: a factor with its own brackets

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
            word = str(token)
            if word in CONSTANT_WORDS and canonical_name(word) not in declared:
                span = _span(meta)
                return Identity(None, span=span) if word == "eye" else Ones(None, span=span)
            run = word.replace(SIGMA, "σ")
            pieces = [self._name(n, token.start_pos + a, token.start_pos + b)
                      for n, a, b in split_run(run, declared)]
            return pieces[0] if len(pieces) == 1 else Mul(tuple(pieces), span=_span(meta))

        @staticmethod
        def _name(n, a, b):
            base, _, label = n.partition("^")
            if label in declared and base:   # a^b with b a declared name: a power, no label
                return ElemPower(Symbol(base, span=(a, b - len(label) - 1)),
                                 Symbol(label, span=(b - len(label), b)), span=(a, b))
            if len(label) == 1 and n not in declared:
                notes.append(f"'{source[a:b]}' is read as one name, {base} with the label "
                             f"{label} (as h^k in the notes); write {base}^({label}) for a power")
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

        def ones_sub(self, meta, token):   # 1_n: the ones vector
            return Ones(None, span=_span(meta))

        def _on_last(self, meta, base, build):
            """A power binds to the last letter of a run: ba^b = b·a^b, like AXXᵀ."""
            if type(base) is Mul and id(base) not in grouped:
                last = base.factors[-1]
                span = (last.span[0], meta.end_pos) if last.span else _span(meta)
                return Mul(base.factors[:-1] + (build(last, span),), span=_span(meta))
            return build(base, _span(meta))

        def epow(self, meta, base, _op, exponent):
            """x.^p, X^∘p: entrywise power by a scalar exponent."""
            return self._on_last(meta, base, lambda b, span: ElemPower(b, exponent, span=span))

        def caret(self, meta, base, _op, exponent):
            """a^b, X**k: a number exponent is the usual power (k = −1 the inverse); a
            symbolic one is a power of scalars (checked once shapes are known)."""
            k = const_value(exponent)

            def build(b, span):
                if k is None:   # shape inference checks that the base is a scalar
                    return Power(b, exponent, span=span)
                return Inverse(b, span=span) if k == -1 else Power(b, k, span=span)
            return self._on_last(meta, base, build)

        def number(self, meta, token):
            return Const(_number(str(token), source, _span(meta)), span=_span(meta))

        def group(self, meta, inner):
            grouped.add(id(inner))
            bracketed.add(id(inner))
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

        def juxt_prefix(self, meta, left, fname, arg):
            applied = self.prefix_call(meta, fname, arg)
            return Mul(tuple(chain_of(left)) + (applied,), span=_span(meta))

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
            grouped.add(id(right))   # A * xᵀy is A·(xᵀy): juxtaposition binds tighter
            return Mul(tuple(chain_of(left)) + (right,), span=span)

        def postfix(self, meta, base, op):
            if type(base) is Mul and id(base) not in grouped:   # AXXᵀ: ᵀ binds to the last X
                last = base.factors[-1]
                span = (last.span[0], meta.end_pos) if last.span else _span(meta)
                return Mul(base.factors[:-1] + (_postfix(last, str(op), span),),
                           span=_span(meta))
            return _postfix(base, str(op), _span(meta))

        def call(self, meta, token, *args):
            out = self._call(meta, token, *args)
            bracketed.add(id(out))
            return out

        def _call(self, meta, token, *args):
            fname = str(token)
            if canonical_name(fname) in declared:   # a declared σ multiplies
                symbol = Symbol(canonical_name(fname), span=(token.start_pos, token.end_pos))
                return Mul((symbol, *args), span=_span(meta))
            if fname in SPECIAL_FUNCTIONS or fname in DIALECT_FUNCTIONS.get(syntax, {}):
                return self._special(fname, args, _span(meta))
            if len(args) != 1:
                raise ParseError(f"{fname} takes one argument, got {len(args)}", source,
                                 _span(meta))
            return self._apply(fname, args[0], _span(meta))

        def _special(self, fname, args, span):
            """Functions that take two arguments or stand for a combination of nodes."""
            dialect = DIALECT_FUNCTIONS.get(syntax, {})
            if fname in dialect:
                return dialect[fname](args, source, span)
            if fname == "max":
                zero = [i for i, a in enumerate(args) if const_value(a) == 0]
                if len(args) != 2 or not zero:
                    raise ParseError("max takes 0 and an expression: max(0, u) = relu(u)",
                                     source, span)
                return Func("relu", args[1 - zero[0]], span=span)
            if len(args) != 1:
                raise ParseError(f"{fname} takes one argument, got {len(args)}", source, span)
            arg = args[0]
            if fname == "norm1":
                return Sum(Func("abs", arg, span=span), span=span)
            if fname == "norm2":   # Euclidean of a vector, Frobenius of a matrix
                return Norm(arg, "F", span=span)
            if fname in ("vector", "matrix"):
                c = const_value(arg)
                if c is None:
                    raise ParseError(f"{fname}(c) takes a number: {fname}(1) is all ones",
                                     source, span)
                ones = Ones(None if fname == "vector" else (None, None), span=span)
                return ones if c == 1 else Mul((Const(c), ones), span=span)
            node = SoftmaxRows if fname.startswith("softmax") else LogSumExpRows
            if fname.endswith("rows"):
                return node(arg, span=span)
            return Transpose(node(Transpose(arg, span=span), span=span), span=span)

        def prefix_call(self, meta, fname, arg):
            if type(arg) is Mul and id(arg) not in grouped and id(arg.factors[0]) in bracketed:
                # log det(X) aᵀx: the bracketed call is the argument, the rest multiplies
                first = self._apply(str(fname), arg.factors[0], _join_spans(
                    (fname.start_pos, fname.end_pos), arg.factors[0].span))
                return Mul((first, *arg.factors[1:]), span=_span(meta))
            if type(arg) is Mul and id(arg) not in grouped and len(arg.factors) > 1:
                inner = source[fname.end_pos:meta.end_pos].strip()
                notes.append(f"'{source[meta.start_pos:meta.end_pos].strip()}': {fname} "
                             f"without brackets applies to the whole product after it, "
                             f"read as {fname}({inner}); write {fname}(…) to choose")
            grouped.add(id(arg))
            return self._apply(str(fname), arg, _span(meta))

        @staticmethod
        def _apply(fname, arg, span):
            kind = FUNCTIONS[fname]
            return Func(kind, arg, span=span) if isinstance(kind, str) else kind(arg, span=span)

        def norm(self, meta, _open, arg, _close, sub=None):
            if sub is not None and ("1" in sub or "₁" in sub):   # ‖u‖₁ = sum(abs(u))
                return Sum(Func("abs", arg, span=_span(meta)), span=_span(meta))
            kind = None if sub is None else ("2" if "2" in sub or "₂" in sub else "F")
            out = Norm(arg, kind, span=_span(meta))
            bracketed.add(id(out))
            return out

    return ToExpr()


_NAME_CALL = re.compile(r"(?<![A-Za-z_{}\\^Ͱ-Ͽ])([A-Za-zͰ-Ͽ](?:[0-9]+|[₀-₉]+|_[0-9A-Za-z]"
                        r"|_\{[A-Za-z0-9]+\})?)\(")


def product_calls(text: str, declared: frozenset[str]) -> list[tuple[str, tuple[int, int]]]:
    """One-letter names written directly before '(' (F(X), L(Wx), f(x)): read as products.

    A declared name is a quantity the user named, so its product reading is no guess."""
    out = []
    for m in _NAME_CALL.finditer(text):
        name = canonical_name(m.group(1))
        if name in declared or m.group(1) == "σ" or name == "I":
            continue
        out.append((m.group(1), (m.start(1), m.end(1))))
    return out


def mark_declared_sigma(text: str, declared: frozenset[str]) -> str:
    """A declared σ is a symbol even before '(' (σ(x) = σ·x, like α(x)); mark it so the
    lexer reads a name, not the sigmoid."""
    if "σ" not in declared:
        return text
    return text.replace("σ", SIGMA)


_WHERE = re.compile(r"(?:^|(?<=[\s,)]))where(?=\s)")
_DEFINITION = re.compile(r"\s*([^\s=;]+)\s*=")


def parse_surface(text: str, declared: frozenset[str] = frozenset(),
                  notes: list[str] | None = None, syntax: str = "matdiff") -> Expr:
    """Parse text into a surface tree (symbols without shapes).

    Guesses that decide the meaning are appended to ``notes`` as sentences.
    ``syntax`` names the dialect (:mod:`matdiff.language.dialects`): 'matdiff' (notes:
    ``Wx`` is W·x), 'matrixcalculus' (matrixcalculus.org: multi-letter names, ``*``
    everywhere) or 'sympy' (SymPy's printed matrix expressions).
    A shared-name form as matdiff prints it reads back: ``main where t_1 = …; t_2 = …``
    (definitions separated by new lines, ';' or ','; each may use the earlier ones)."""
    check_syntax(syntax)
    notes = [] if notes is None else notes
    if not isinstance(text, str) or not _WHERE.search(text):
        return _parse_one(text, declared, notes, syntax)
    where = _WHERE.search(text)
    blank = lambda a, b: "".join(c if c == "\n" else " " for c in text[:a]) + text[a:b]  # noqa: E731
    main = _parse_one(blank(0, where.start()), declared, notes, syntax)
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
        body = _parse_one(blank(a + m.end(), a + len(chunk)), declared, notes, syntax)
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


def _parse_one(text: str, declared: frozenset[str], notes: list[str],
               syntax: str = "matdiff") -> Expr:
    from lark.exceptions import UnexpectedCharacters, UnexpectedInput, VisitError

    if not isinstance(text, str):
        raise ParseError(f"expected the expression as a string, got {type(text).__name__}")
    if not text.strip():
        raise ParseError("empty expression: nothing to read", text, (0, max(1, len(text))))
    source = text
    private = re.search("[\uE000-\uE003]", text)
    if private:   # the marks this module uses internally
        raise ParseError(f"unexpected character {private.group()!r}", text,
                         (private.start(), private.end()))
    text = normalize(text)
    declared = frozenset(declared) | dialect_names(text, syntax)
    try:
        check_lines(source)
        check_brackets(text)
        marked = mark_declared_sigma(mark_norm_bars(text), declared)
    except ParseError as err:
        err.source = source   # the caret under the user's own characters
        raise
    unknown = unknown_function(marked, declared | frozenset(DIALECT_FUNCTIONS[syntax]))
    try:
        tree = _lark(syntax).parse(marked)
    except UnexpectedCharacters as e:
        ch = source[e.pos_in_stream]
        error = ParseError(LONE_CARET if ch == "^" else f"unexpected character {ch!r}", source,
                           (e.pos_in_stream, e.pos_in_stream + 1))
        raise _first(unknown, error) from None
    except UnexpectedInput as e:
        raise _first(unknown, _token_error(source, e)) from None
    if unknown is not None:
        raise unknown
    for name, _span_ in product_calls(text, declared):
        notes.append(f"'{name}(…)' is read as the product {name}·(…), not a function: "
                     f"matdiff's functions are {', '.join(FUNCTION_NAMES)} (declare "
                     f"{name} to silence this)")
    try:
        return _make_transformer(source, declared, notes, syntax).transform(tree)
    except VisitError as e:
        if isinstance(e.orig_exc, MatdiffError):
            raise e.orig_exc from None
        raise


def _join_spans(a, b):
    return (a[0], b[1]) if a and b else a or b


def _first(a: ParseError | None, b: ParseError) -> ParseError:
    """Of two errors, the one further left in the source."""
    return a if a is not None and a.span[0] < b.span[0] else b


def _token_error(text: str, e) -> ParseError:
    token = getattr(e, "token", None)
    at = len(text) if token is None or token.type == "$END" else token.start_pos
    before = text[:at].rstrip()
    if before.endswith("^"):   # x^ followed by nothing it can raise to
        return ParseError(LONE_CARET, text, (len(before) - 1, len(before)))
    if token is None or token.type == "$END":
        end = len(text.rstrip())
        return ParseError("unexpected end of input: an operand is missing", text,
                          (max(0, end - 1), max(1, end)))
    shown = text[token.start_pos:token.end_pos]
    if shown in ("{", "}"):   # braces are tokens only inside a^{…} and X^{∘…}
        return ParseError(f"unexpected character {shown!r}", text,
                          (token.start_pos, token.end_pos))
    expected = getattr(e, "expected", set()) or set()
    what = "operator" if token.type in ("PLUS", "MINUS", "MULOP") else "token"
    hint = ": an operand is missing before it" if what == "operator" or token.type == "RPAR" \
        and "RPAR" not in expected else ""
    return ParseError(f"unexpected {what} {shown!r}{hint}", text,
                      (token.start_pos, token.end_pos))
