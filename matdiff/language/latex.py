"""Stage 1 (LaTeX) — read a formula as lecture notes typeset it into the same surface tree
the plain parser builds.

The syntax is ``grammar/latex.lark`` (LALR) plus three terminals written here from the
tables in :mod:`matdiff.core.names` (functions and Greek letters), so a function added to
``FUNCTIONS`` reads in both languages.  The transformer extends the plain one: products,
sums, names (``Wx`` = W·x) and groups are built by the same code.

Chosen by :func:`looks_like_latex`: text with a backslash command (``\\mathbf``, ``\\|``)
or a ``$``.  Entry point: :func:`parse_latex`.  Errors are ParseError with a caret.
"""
from __future__ import annotations

import re
from fractions import Fraction
from functools import lru_cache

from ..core.errors import MatdiffError, ParseError, UnknownFunctionError
from ..core.names import FUNCTIONS, GREEK, canonical_name, name_parts
from ..core.nodes import (
    ONE,
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
    Sum,
    Symbol,
    Transpose,
)
from .parse import _make_transformer, _postfix, _span

_LATEX = re.compile(r"\\[A-Za-z|]|\$|(?<![\^_\s])\s*(?<![\^_])\{")
_SIZER = r"(?:\\(?:left|bigl?|Bigl?|biggl?|Biggl?)\s*)?"
_OPERATOR = r"\\(?:operatorname|mathrm|text|textrm|mathsf)\s*\{\s*"
_VARIANTS = {"varepsilon": "epsilon", "vartheta": "theta", "varphi": "phi", "varrho": "rho",
             "varsigma": "sigma", "varpi": "pi"}
_TRANSPOSES = {"T", "\\top", "\\intercal", "\\mathsf{T}", "\\mathrm{T}", "\\prime", "'",
               "\\mathsf T", "\\text{T}"}
_ACCENT_WORDS = {"hat": "hat", "widehat": "hat", "bar": "bar", "overline": "bar",
                 "tilde": "tilde", "widetilde": "tilde"}
_OPS = {"\\cdot": "*", "\\times": "*", "*": "*", "·": "*", "/": "/", "\\odot": "⊙",
        "⊙": "⊙", "\\circ": "∘", "∘": "∘", "\\oslash": "./"}


def looks_like_latex(text: str) -> bool:
    """LaTeX when the text has a backslash command (\\mathbf, \\top, \\|), a $, or a
    brace group not right after ^ or _.  Plain text also reads the LaTeX-style ^{T},
    ^{-1}, x_{12} and h^{(k)}."""
    return bool(_LATEX.search(text))


def _word_commands() -> tuple[str, str]:
    """(functions that are backslash commands, all function words), longest first."""
    words = sorted((w for w in FUNCTIONS if w.isascii() and w.isalpha()), key=len,
                   reverse=True)
    commands = [w for w in words if w in _TEX_OPERATORS]
    return "|".join(commands), "|".join(words)


# TeX's named operators (\sin, \log, …); \sigma is a function only before a bracket
_TEX_OPERATORS = {"sin", "cos", "tan", "sec", "csc", "cot", "arcsin", "arccos", "arctan",
                  "sinh", "cosh", "tanh", "coth", "exp", "log", "ln", "lg", "det", "max",
                  "min"}


@lru_cache(maxsize=1)
def _lark():
    from lark import Lark

    from ..resources import grammar_path
    commands, words = _word_commands()
    greek = "|".join(sorted(list(GREEK) + list(_VARIANTS), key=len, reverse=True))
    head = rf"(?:\\(?:{commands})|{_OPERATOR}(?:{words})\s*\}})"
    call = rf"(?:\\(?:{commands}|sigma)|{_OPERATOR}(?:{words})\s*\}})"
    extra = (f"\nCALLHEAD.5: /{call}\\s*{_SIZER}\\(/"
             f"\nFUNCCMD.4: /{head}(?![A-Za-z])/"
             f"\nGREEKCMD.3: /\\\\(?:{greek})(?![A-Za-z])/\n")
    text = grammar_path().with_name("latex.lark").read_text(encoding="utf-8") + extra
    return Lark(text, parser="lalr", propagate_positions=True, maybe_placeholders=False,
                postlex=_NormBars())


class _NormBars:
    """Tell norm bars apart: a bar closes when a norm is open and the previous token
    ends an operand (so ‖a‖‖b‖ is a product of two norms)."""

    always_accept = ("BAR", "LVERT", "RVERT")
    _OPEN_AFTER = {"PLUS", "MINUS", "MULOP", "LPAR", "LSQB", "LBRACE", "COMMA", "CALLHEAD",
                   "FUNCCMD", "SUM", "NORM_L", "FRAC", "SQRT", "FONT", "ACCENT", "DOLLAR"}

    def process(self, stream):
        from lark import Token
        depth, prev = 0, None
        for tok in stream:
            if tok.type in ("BAR", "LVERT", "RVERT"):
                closes = tok.type == "RVERT" or (tok.type == "BAR" and depth > 0 and
                                                 prev is not None and
                                                 prev not in self._OPEN_AFTER)
                depth += -1 if closes else 1
                tok = Token.new_borrow_pos("NORM_R" if closes else "NORM_L", tok.value, tok)
            prev = tok.type
            yield tok


def parse_latex(text: str, declared: frozenset[str] = frozenset(), notes: list[str] | None = None) -> Expr:
    """Parse a LaTeX formula into a surface tree (symbols without shapes)."""
    from lark.exceptions import UnexpectedCharacters, UnexpectedInput, VisitError
    try:
        tree = _lark().parse(text)
    except UnexpectedCharacters as e:
        raise _unknown_command(text, e.pos_in_stream) or \
            _character_error(text, e.pos_in_stream) from None
    except UnexpectedInput as e:
        error = _token_error(text, e)
        raise _unknown_command(text, error.span[0]) or error from None
    try:
        return _transformer(text, declared, [] if notes is None else notes).transform(tree)
    except VisitError as e:
        if isinstance(e.orig_exc, MatdiffError):
            raise e.orig_exc from None
        raise


def _character_error(text: str, pos: int) -> ParseError:
    if text[pos] == "^":
        return ParseError("'^' needs what it raises to: ^{\\top} (transpose), ^{-1} "
                          "(inverse), ^{2} (power) or ^{(k)} (a label such as h^{(k)})",
                          text, (pos, pos + 1))
    if text[pos] == "\\":
        end = re.match(r"\\[A-Za-z]*", text[pos:]).end() + pos
        return ParseError(f"cannot read {text[pos:end] or chr(92)!r} here", text, (pos, end))
    return ParseError(f"unexpected character {text[pos]!r}", text, (pos, pos + 1))


@lru_cache(maxsize=1)
def _tokens_lark():
    """The same terminals with a plain lexer: to list the tokens before a syntax error."""
    from lark import Lark
    return Lark(_lark().source_grammar, parser="lalr", lexer="basic",
                postlex=_NormBars())


def _unknown_command(text: str, before: int) -> UnknownFunctionError | None:
    """The first backslash command before a syntax error that only COMMAND reads
    (\\input, \\partial): that is the fault to report."""
    from lark.exceptions import LarkError
    try:
        for tok in _tokens_lark().lex(text):
            if tok.start_pos > before:
                break
            if tok.type == "COMMAND":
                return UnknownFunctionError(f"unknown LaTeX command {str(tok)!r}", text,
                                            (tok.start_pos, tok.end_pos))
    except LarkError:
        pass
    return None


def _token_error(text: str, e) -> ParseError:
    token = getattr(e, "token", None)
    if token is None or token.type == "$END":
        end = len(text.rstrip())
        return ParseError("unexpected end of input: an operand or a closing bracket is "
                          "missing", text, (max(0, end - 1), max(1, end)))
    shown = text[token.start_pos:token.end_pos]
    what = "character" if len(shown) == 1 else "token"
    return ParseError(f"unexpected {what} {shown!r}", text, (token.start_pos, token.end_pos))


# ----- names: subscripts, labels, accents ---------------------------------------------

def with_sub(name: str, sub: str) -> str:
    letter, accent, old, label = name_parts(name)
    if old:
        raise ValueError(name)
    return _compose(letter, accent, sub, label)


def with_label(name: str, label: str) -> str:
    letter, accent, sub, old = name_parts(name)
    if old:
        raise ValueError(name)
    return _compose(letter, accent, sub, label)


def with_accent(name: str, accent: str) -> str:
    letter, old, sub, label = name_parts(name)
    if old:
        raise ValueError(name)
    return _compose(letter, accent, sub, label)


def _compose(letter, accent, sub, label) -> str:
    import unicodedata

    from ..core.names import ACCENTS
    return unicodedata.normalize("NFC", letter + (ACCENTS[accent] if accent else "") +
                                 (f"_{sub}" if sub else "") + (f"^{label}" if label else ""))


def _body(token: str) -> str:
    """The argument of ^ or _ without the mark, spaces and one pair of braces."""
    body = token[1:].strip()
    if body.startswith("{") and body.endswith("}"):
        body = body[1:-1].strip()
    return re.sub(r"\s+", " ", body)


# ----- the transformer ------------------------------------------------------------------

def _transformer(source: str, declared: frozenset[str], notes: list[str]):
    from lark import Token, v_args

    base = type(_make_transformer(source, declared, notes))

    def last_of(e, span, change):
        """A postfix binds to the last letter of a run: W x^T is W(xᵀ)."""
        if type(e) is Mul and run_of.get(id(e)):
            return Mul(e.factors[:-1] + (change(e.factors[-1], span),), span=span)
        return change(e, span)

    run_of: dict[int, bool] = {}

    @v_args(inline=True, meta=True)
    class LatexExpr(base):
        def name(self, meta, token):
            e = super().name(meta, token)
            run_of[id(e)] = True
            return e

        def greek(self, meta, token):
            word = str(token)[1:]
            return Symbol(GREEK[_VARIANTS.get(word, word)], span=_span(meta))

        def binop(self, meta, left, op, right):
            op = re.sub(r"\s+", "", str(op))
            if op in ("\\otimes", "⊗"):
                if not _reads_kron():
                    raise ParseError("⊗ (Kronecker product) is not part of the input "
                                     "language yet", source, _span(meta))
                return Kron(left, right, span=_span(meta))
            return super().binop(meta, left, Token("MULOP", _OPS[op]), right)

        def call(self, meta, head, *args):
            word = _function_word(str(head))
            return super().call(meta, Token.new_borrow_pos("CALLFUNC", word, head), *args)

        def prefix_call(self, meta, head, arg):
            word = _function_word(str(head))
            kind = FUNCTIONS[word]
            span = _span(meta)
            return Func(kind, arg, span=span) if isinstance(kind, str) else kind(arg, span=span)

        def frac(self, meta, _head, num, den):
            if isinstance(num, Const) and isinstance(den, Const) and den.value != 0:
                return Const(Fraction(num.value) / den.value, span=_span(meta))
            self.group(meta, num)
            self.group(meta, den)
            return Div(num, den, span=_span(meta))

        def sqrt(self, meta, _head, arg):
            return Func("sqrt", arg, span=_span(meta))

        def font(self, meta, _head, inner):
            if isinstance(inner, Const) and inner.value == 1:
                return Ones(None, span=_span(meta))
            return inner

        def accent(self, meta, head, inner):
            word = _ACCENT_WORDS[str(head)[1:]]
            if not isinstance(inner, Symbol):
                raise ParseError(f"\\{str(head)[1:]}{{…}} marks a name, such as "
                                 f"\\hat{{y}}", source, _span(meta))
            try:
                return Symbol(with_accent(inner.name, word), span=_span(meta))
            except ValueError:
                raise ParseError(f"{inner.name} already has an accent", source,
                                 _span(meta)) from None

        def opname(self, meta, token):
            word = re.search(r"\{\s*([A-Za-z]+)", str(token)).group(1)
            if len(word) == 1:
                return Symbol(canonical_name(word), span=_span(meta))
            raise UnknownFunctionError(f"unknown name or function {word!r}", source,
                                       _span(meta))

        def unknown_command(self, meta, token):
            raise UnknownFunctionError(f"unknown LaTeX command {str(token)!r}", source,
                                       _span(meta))

        def norm(self, meta, _open, arg, _close):
            return Norm(arg, None, span=_span(meta))

        def sub_script(self, meta, base_, token):
            return last_of(base_, _span(meta), lambda e, span: _subscript(e, token, span))

        def sup(self, meta, base_, token):
            return last_of(base_, _span(meta), lambda e, span: _superscript(e, token, span))

        def upost(self, meta, base_, token):
            return last_of(base_, _span(meta), lambda e, span: _postfix(e, str(token), span))

        def juxt_sum(self, meta, left, token, summand):
            return self.juxt(meta, left, self.index_sum(meta, token, summand))

        def index_sum(self, meta, token, summand):
            m = re.match(r"\\sum\s*(?:_\s*\{?\s*([A-Za-z])[^}]*\}?)?", str(token))
            index = m.group(1)
            used: list[bool] = []
            outside = ()
            if index and isinstance(summand, Mul):   # Σᵢ c xᵢ = c Σᵢ xᵢ
                outside = tuple(f for f in summand.factors if not _uses(f, index))
                inside = tuple(f for f in summand.factors if _uses(f, index))
                summand = (inside[0] if len(inside) == 1 else Mul(inside, span=summand.span)) \
                    if inside and outside else summand
                outside = outside if inside else ()
            body = entrywise(summand, index, used, source)
            if index and not used:
                raise ParseError(f"the summand does not use the index {index}: write "
                                 f"\\sum_{index} x_{index}", source, _span(meta))
            total = Sum(body, span=_span(meta))
            return Mul(outside + (total,), span=_span(meta)) if outside else total

    def _subscript(e, token, span):
        body = _body(str(token))
        at = (token.start_pos, token.end_pos)
        if isinstance(e, Norm) and e.kind is None:
            kinds = {"2": "2", "F": "F", "\\mathrm{F}": "F", "\\text{F}": "F", "fro": "F"}
            if body in kinds:
                return Norm(e.arg, kinds[body], span=span)
            raise ParseError(f"unknown norm subscript {body!r}: matdiff knows ‖x‖_2 and "
                             f"‖X‖_F", source, at)
        if isinstance(e, Identity) and e.n is None and re.fullmatch(r"[A-Za-z]|\d+", body):
            return Identity(int(body) if body.isdigit() else body, span=span)
        if isinstance(e, Ones) and e.shape_ is None and re.fullmatch(r"[A-Za-z]|\d+", body):
            return Ones((int(body) if body.isdigit() else body, 1), span=span)
        if isinstance(e, Symbol) and re.fullmatch(r"[A-Za-z0-9]+", body):
            try:
                return Symbol(with_sub(e.name, body), span=span)
            except ValueError:
                pass
        raise ParseError(f"cannot read the subscript {body!r} here: a name takes one "
                         f"subscript (x_1, W_{{12}}), a norm _2 or _F", source, at)

    def _superscript(e, token, span):
        body = _body(str(token))
        compact = body.replace(" ", "")
        if body in _TRANSPOSES or compact in _TRANSPOSES:
            return Transpose(e, span=span)
        if compact.startswith("-") and (compact[1:] in _TRANSPOSES or
                                        compact[1:].replace("{", "").replace("}", "") == "T"):
            return Transpose(Inverse(e, span=span), span=span)
        frac = re.fullmatch(r"(-?)\\[dt]?frac\{(\d+)\}\{(\d+)\}", compact)
        if frac:   # x^{\frac{1}{2}}, as the printer writes a fractional power
            compact = f"{frac.group(1)}{frac.group(2)}/{frac.group(3)}"
        if re.fullmatch(r"-?\d+(\.\d+)?(/\d+)?", compact):
            return _postfix(e, "^{" + compact + "}", span)
        label = re.fullmatch(r"\(([A-Za-z0-9]+)\)|([A-Za-z])", compact)
        if label and isinstance(e, Symbol):
            try:
                return Symbol(with_label(e.name, f"({label.group(1)})" if label.group(1)
                                         else label.group(2)), span=span)
            except ValueError:
                pass
        raise ParseError(f"cannot read the superscript {body!r}: write ^{{\\top}} "
                         f"(transpose), ^{{-1}} (inverse), ^{{2}} (power) or ^{{(k)}} "
                         f"(a label on a name, h^{{(k)}})", source,
                         (token.start_pos, token.end_pos))

    return LatexExpr()


def _reads_kron() -> bool:
    """Whether shape inference knows ⊗ (being added to the plain language)."""
    from ..core.shapes import _Inference
    return hasattr(_Inference, "visit_Kron")


def _function_word(head: str) -> str:
    m = re.match(r"\\(?:(?:operatorname|mathrm|text|textrm|mathsf)\s*\{\s*)?([A-Za-z]+)",
                 head)
    return m.group(1)


def entrywise(e: Expr, index: str | None, used: list, source: str) -> Expr:
    """The summand of Σᵢ read entrywise in i: yᵢ → y, a power → ⊙ (the notes' Σ(Ŷ − Y)²
    is a sum of squared entries), a product or quotient of indexed factors → ⊙, ./;
    a matrix product of unindexed factors stays one."""
    rec = lambda x: entrywise(x, index, used, source)   # noqa: E731
    if isinstance(e, Symbol):
        letter, accent, sub, label = name_parts(e.name)
        if index and sub == index:
            used.append(True)
            return Symbol(_compose(letter, accent, "", label), span=e.span)
        return e
    if isinstance(e, Power) and e.exponent.denominator == 1 and e.exponent > 0:
        base = rec(e.base)
        return base if e.exponent == 1 else Hadamard((base,) * int(e.exponent), span=e.span)
    if isinstance(e, Mul):
        indexed = [rec(f) for f in e.factors if _uses(f, index)]
        rest = tuple(f for f in e.factors if not _uses(f, index))
        if not indexed:
            return Mul(tuple(rec(f) for f in e.factors), span=e.span)
        body = indexed[0] if len(indexed) == 1 else Hadamard(tuple(indexed), span=e.span)
        return Mul(rest + (body,), span=e.span) if rest else body
    if isinstance(e, Div) and _uses(e.den, index):
        return ElemDiv(rec(e.num), rec(e.den), span=e.span)
    if isinstance(e, Inverse) and _uses(e.arg, index):
        return ElemDiv(ONE, rec(e.arg), span=e.span)
    if isinstance(e, (Add, Hadamard, Func, ElemDiv, Div, Transpose)):
        return e.rebuild(rec(k) for k in e.children())
    return e


def _uses(e: Expr, index: str | None) -> bool:
    """Whether a summand's part carries the summation index (yᵢ)."""
    from ..core.nodes import walk
    return bool(index) and any(isinstance(n, Symbol) and name_parts(n.name)[2] == index
                               for n in walk(e))
