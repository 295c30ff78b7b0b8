"""Stage 6 — render: text (round-trips through the grammar), Unicode and LaTeX.

One printer, three styles.  Parentheses come from one precedence table: a child is
wrapped when its precedence is below what its parent needs.  A product whose scalar
factors have negative powers prints as a fraction (x/‖x‖); a negative coefficient prints
as a minus sign, and inside a sum as `a − b`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

from ..core.names import FUNCTIONS, GREEK_NAMES, split_run
from ..core.nodes import (
    STAGES,
    Add,
    Commutation,
    Const,
    Differential,
    DimSize,
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
    Vec,
    Zero,
    deep_recursion,
    walk,
)

ADD, HAD, DIV, NEG, MUL, POSTFIX, ATOM = 10, 30, 40, 45, 50, 90, 100

_SUPER = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
_SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
_VULGAR = {Fraction(1, 2): "½", Fraction(1, 3): "⅓", Fraction(2, 3): "⅔", Fraction(1, 4): "¼",
           Fraction(3, 4): "¾"}


@dataclass(frozen=True)
class Style:
    name: str
    minus: str
    transpose: str
    inverse: str
    inverse_transpose: str
    hadamard: str
    elemdiv: str
    norm: tuple[str, str]
    frobenius: str
    lparen: str = "("
    rparen: str = ")"


TEXT = Style("text", "-", "^T", "^-1", "^-T", " .* ", " ./ ", ("||", "||"), "_F")
PRETTY = Style("pretty", "−", "ᵀ", "⁻¹", "⁻ᵀ", " ⊙ ", " ./ ", ("‖", "‖"), "_F")
LATEX = Style("latex", "-", "^{\\top}", "^{-1}", "^{-\\top}", " \\odot ", " \\oslash ",
              ("\\left\\lVert ", "\\right\\rVert"), "_{F}", "\\left(", "\\right)")

_FUNC_LATEX = {"exp": "\\exp", "log": "\\log", "sin": "\\sin", "cos": "\\cos",
               "tanh": "\\tanh", "sigmoid": "\\sigma"}


class Printer:
    """Render one expression in one style; each node type has a method ``_<Name>``."""

    def __init__(self, style: Style, bold: bool = False):
        self.s = style
        self.latex = style is LATEX
        self.bold = bold and self.latex   # vectors and matrices in bold, as MML prints
        self.norm_depth = 0

    def __call__(self, e: Expr) -> str:
        return self.show(e)[0]

    def show(self, e: Expr) -> tuple[str, int]:
        return getattr(self, "_" + type(e).__name__)(e)

    def wrap(self, e: Expr, need: int) -> str:
        text, prec = self.show(e)
        return self.paren(text) if prec < need else text

    def paren(self, text: str) -> str:
        return f"{self.s.lparen}{text}{self.s.rparen}"

    # ----- leaves -------------------------------------------------------------------

    def _Symbol(self, e: Symbol):
        return self.symbol(e), ATOM

    def symbol(self, e: Symbol) -> str:
        if self.bold and e.shape_ not in (None, ()):
            return f"\\boldsymbol{{{self.name(e.name)}}}"
        return self.name(e.name)

    def name(self, name: str) -> str:
        letter, _, sub = name.partition("_")
        if self.latex:
            letter = "\\" + GREEK_NAMES[letter] if letter in GREEK_NAMES else letter
            return f"{letter}_{{{sub}}}" if sub else letter
        if self.s is TEXT and letter in GREEK_NAMES:
            letter = GREEK_NAMES[letter]
        if not sub:
            return letter
        if self.s is PRETTY and sub.isdigit():
            return letter + sub.translate(_SUB)
        return f"{letter}_{sub}" if len(sub) == 1 or sub.isdigit() else f"{letter}_{{{sub}}}"

    def _Const(self, e: Const):
        v = e.value
        if v < 0:
            return f"{self.s.minus}{self.number(-v)}", NEG
        return self.number(v), ATOM

    def number(self, v: Fraction) -> str:
        if v.denominator == 1:
            return str(v.numerator)
        if self.latex:
            return f"\\frac{{{v.numerator}}}{{{v.denominator}}}"
        if self.s is PRETTY and v in _VULGAR:
            return _VULGAR[v]
        return f"{v.numerator}/{v.denominator}"

    def _Identity(self, e):
        return ("\\boldsymbol{I}" if self.bold else "I"), ATOM

    def _Zero(self, e):
        return "0", ATOM

    def _Ones(self, e):
        one = "\\mathbf{1}" if self.latex else "𝟏"
        if e.shape_[1] != 1:
            return f"{one}{one}{self.s.transpose}", MUL
        return one, ATOM

    def _DimSize(self, e):
        """A dimension as a number: tr(I), never the bare name (which reads as a symbol)."""
        return self.call("tr", Identity(e.dim), None if not self.latex else "\\operatorname{tr}")

    def _Differential(self, e):
        d = "\\mathrm{d}" if self.latex else "d"
        if not isinstance(e.of, Symbol):   # a step of a derivation: d(tr(AXB))
            return f"{d}{self.paren(self(e.of))}", ATOM
        return f"{d}{self.symbol(e.of)}", ATOM

    # ----- operations ------------------------------------------------------------------

    def _Add(self, e: Add):
        parts = []
        terms = list(e.terms)
        first_positive = next((t for t in terms if not self.split_sign(t)[0]), None)
        if first_positive is not None:   # −½Σ⁻¹ + ½M prints as ½M − ½Σ⁻¹
            terms.remove(first_positive)
            terms.insert(0, first_positive)
        for i, term in enumerate(terms):
            negative, body = self.split_sign(term)
            text = self.wrap(body, ADD + 1 if negative else ADD)
            if i == 0:
                parts.append(f"{self.s.minus}{text}" if negative else text)
            else:
                parts.append(f" {self.s.minus} {text}" if negative else f" + {text}")
        return "".join(parts), ADD

    def split_sign(self, e: Expr):
        """(is negative, the term without its minus sign)."""
        if isinstance(e, Const) and e.value < 0:
            return True, Const(-e.value)
        if isinstance(e, Mul) and isinstance(e.factors[0], Const) and e.factors[0].value < 0:
            c = -e.factors[0].value
            rest = e.factors[1:]
            body = Mul(((Const(c),) if c != 1 else ()) + rest) if (c != 1 or len(rest) > 1) \
                else rest[0]
            return True, body
        return False, e

    def _Mul(self, e: Mul):
        negative, body = self.split_sign(e)
        if negative and isinstance(body, (Hadamard, ElemDiv)):
            return f"{self.s.minus}{self(body)}", HAD   # −(y ⊙ u) = −y ⊙ u
        if negative:
            return f"{self.s.minus}{self.wrap(body, DIV)}", NEG
        num = [f for f in e.factors if not _is_reciprocal(f)]
        den = [_reciprocal(f) for f in e.factors if _is_reciprocal(f)]
        if den:
            top = self.product(num) if num else "1"
            bottom = self.product(den)
            if self.latex:
                return f"\\frac{{{top}}}{{{bottom}}}", ATOM
            if len(num) > 1 and self.show(Mul(tuple(num)))[1] < MUL:
                top = self.paren(top)
            if len(den) > 1 or self.show(den[0])[1] < POSTFIX:
                bottom = self.paren(self.product(den) if len(den) > 1 else self(den[0]))
            return f"{top}/{bottom}", DIV
        return self.product(e.factors), MUL

    def product(self, factors) -> str:
        out, previous = "", None
        for f in factors:
            scalar_group = isinstance(f, Mul) and f.shape == ()
            text = self.wrap(f, POSTFIX if scalar_group else MUL)
            if out and self.s is PRETTY and (_is_differential(f) or _is_differential(previous)):
                out = f"{out} {text}"   # A dX B, not AdXB
            else:
                out = self.join(out, text)
            previous = f
        return out

    def join(self, left: str, right: str) -> str:
        if not left:
            return right
        if self.s is TEXT or self.latex:
            return f"{left} {right}"
        return f"{left}{right}" if _juxtapose_safely(left, right) else f"{left} {right}"

    def _Hadamard(self, e: Hadamard):
        return self.s.hadamard.join(self.wrap(f, HAD) if isinstance(f, Hadamard) else
                                    self.wrap(f, DIV) for f in e.factors), HAD

    def _ElemDiv(self, e: ElemDiv):
        return f"{self.wrap(e.num, HAD)}{self.s.elemdiv}{self.wrap(e.den, DIV)}", HAD

    def _Power(self, e: Power):
        k = e.exponent
        if k < 0 and e.base.shape == ():
            return self._Mul(Mul((e,)))
        if isinstance(e.base, Transpose) and isinstance(e.base.arg, Inverse) and k == 1:
            return self.show(e.base)
        base = self.wrap(e.base, ATOM)
        if self.latex:
            return f"{base}^{{{self.number(k) if k >= 0 else '-' + self.number(-k)}}}", POSTFIX
        if k.denominator == 1 and self.s is PRETTY:
            return base + str(k.numerator).translate(_SUPER), POSTFIX
        if k.denominator == 1:
            return f"{base}^{k.numerator}", POSTFIX
        return f"{base}^({k.numerator}/{k.denominator})", POSTFIX

    def _Transpose(self, e: Transpose):
        if isinstance(e.arg, Inverse):
            return self.wrap(e.arg.arg, ATOM) + self.s.inverse_transpose, POSTFIX
        return self.wrap(e.arg, ATOM) + self.s.transpose, POSTFIX

    def _Inverse(self, e: Inverse):
        return self.wrap(e.arg, ATOM) + self.s.inverse, POSTFIX

    def call(self, name: str, arg: Expr, latex_name: str | None = None):
        if self.latex:
            head = latex_name or "\\operatorname{%s}" % name
            return head + self.paren(self(arg)), ATOM
        return f"{name}({self(arg)})", ATOM

    def _Trace(self, e):
        return self.call("tr", e.arg)

    def _Det(self, e):
        return self.call("det", e.arg, "\\det")

    def _LogDet(self, e):
        if self.latex:
            return f"\\log\\det{self.paren(self(e.arg))}", ATOM
        return f"log det({self(e.arg)})", MUL   # (log det X)², not log det(X)²

    def _Func(self, e: Func):
        if e.name == "sqrt" and self.latex:
            return f"\\sqrt{{{self(e.arg)}}}", ATOM
        name = "σ" if e.name == "sigmoid" and self.s is PRETTY else e.name
        return self.call(name, e.arg, _FUNC_LATEX.get(e.name))

    def _Sum(self, e):
        return self.call("sum", e.arg)

    def _DiagMat(self, e):
        return self.call("diag", e.arg)

    _DiagVec = _DiagMat

    def _Softmax(self, e):
        return self.call("softmax", e.arg)

    def _LogSumExp(self, e):
        return self.call("logsumexp", e.arg)

    def _Kron(self, e: Kron):
        op = " \\otimes " if self.latex else " ⊗ "
        return f"{self.wrap(e.left, DIV)}{op}{self.wrap(e.right, DIV)}", HAD

    def _Commutation(self, e: Commutation):
        if self.latex:
            return f"K_{{{e.m},{e.n}}}", ATOM
        return f"K_({e.m},{e.n})", ATOM

    def _Vec(self, e: Vec):
        return self.call("vec", e.arg)

    def _Norm(self, e: Norm):
        left, right = self.s.norm
        sub = self.s.frobenius if e.kind == "F" else ""
        self.norm_depth += 1
        try:
            text = f"{left}{self(e.arg)}{right}{sub}"
        finally:
            self.norm_depth -= 1
        nested = self.norm_depth > 0 and not self.latex   # ‖2‖y‖y‖ is ambiguous
        return (self.paren(text), ATOM) if nested else (text, ATOM)


def _is_differential(f) -> bool:
    return isinstance(f, Differential) or (isinstance(f, Transpose) and
                                           isinstance(f.arg, Differential))


def _is_reciprocal(f: Expr) -> bool:
    return isinstance(f, Power) and f.exponent < 0 and f.base.shape == ()


def _reciprocal(f: Power) -> Expr:
    return f.base if f.exponent == -1 else Power(f.base, -f.exponent)


_RUN = re.compile(r"[A-Za-zͰ-Ͽ0-9_₀-₉𝟏{}]*")


def _trailing_run(text: str) -> str:
    return re.search(r"[A-Za-zͰ-Ͽ0-9_₀-₉𝟏{}]*$", text).group(0)


def _leading_run(text: str) -> str:
    return _RUN.match(text).group(0)


def _juxtapose_safely(left: str, right: str) -> bool:
    """Can two factors be written without a space and still read back the same?"""
    a, b = _trailing_run(left), _leading_run(right)
    if not a:
        return True
    if not b:
        return not (right.startswith("(") and len(re.search(r"[A-Za-z]*$", a).group(0)) >= 2)
    if a[-1].isdigit() and b[0].isdigit() or a[-1].isalpha() and b[0].isdigit():
        return False
    a = a.lstrip("0123456789")
    if not a:
        return True   # 2A
    if b in FUNCTIONS and right[len(b):].startswith("(") and b != "σ":
        return False   # C softmax(y), not Csoftmax(y)
    if not b and right.startswith("(") and len(re.search(r"[A-Za-z]*$", a).group(0)) >= 2:
        return False   # a b c(x): 'abc(' would read as a function
    joined = a + b
    for name in FUNCTIONS:   # t r (x) would read as tr(x)
        for start in range(max(0, len(a) - len(name) + 1), len(a)):
            if joined.startswith(name, start) and start + len(name) > len(a):
                return False
    try:
        return split_run(a + b, frozenset()) == \
            [(n, i, j) for n, i, j in split_run(a, frozenset())] + \
            [(n, i + len(a), j + len(a)) for n, i, j in split_run(b, frozenset())]
    except AttributeError:   # not a name run (digits): keep them apart
        return False


_TEXT, _PRETTY, _LATEX = Printer(TEXT), Printer(PRETTY), Printer(LATEX)
_LATEX_BOLD = Printer(LATEX, bold=True)


def to_text(e: Expr, shared: bool | None = False) -> str:
    """Plain text in the matdiff language: ``parse(to_text(e))`` reads back e's value.
    ``shared=True`` names repeated subexpressions (where t_1 = …); None decides by size."""
    return _render(_TEXT, e, shared)


def to_pretty(e: Expr, shared: bool | None = False) -> str:
    """Unicode for terminals: −2AᵀW(x − As)."""
    return _render(_PRETTY, e, shared)


def to_latex(e: Expr, shared: bool | None = False, bold: bool = False) -> str:
    """LaTeX (amsmath); ``bold``: vectors and matrices as \\boldsymbol{x}, as MML prints."""
    return _render(_LATEX_BOLD if bold else _LATEX, e, shared)


# ----- shared subexpressions: t₁ = tanh(x), t₂ = tanh(t₁), … --------------------------------

_TRIVIAL = (Symbol, Const, Identity, Zero, Ones, DimSize, Differential)


def _render(printer: Printer, e: Expr, shared: bool | None) -> str:
    with deep_recursion():
        if shared is None:
            shared = needs_names(e)
        if not shared:
            return printer(e)
        main, definitions = name_shared(e)
        if not definitions:
            return printer(e)
        if printer.latex:   # one definition a line, aligned at =, so that it fits a page
            rows = " \\\\ ".join(f"{printer(n)} &= {printer(d)}" for n, d in definitions)
            return printer(main) + r",\quad\text{where } \begin{aligned}[t] " + rows + \
                r" \end{aligned}"
        defs = [f"{printer(n)} = {printer(d)}" for n, d in definitions]
        return printer(main) + "\n  where " + "\n        ".join(defs)


def tree_size(e: Expr) -> int:
    """The number of nodes the expression has printed out in full (counted on the DAG)."""
    sizes: dict[int, int] = {}
    for node in walk(e):
        sizes[id(node)] = 1 + sum(sizes[id(k)] for k in node.children())
    return sizes[id(e)]


def needs_names(e: Expr) -> bool:
    """Name shared parts when printing them out would be much larger than the DAG."""
    full = tree_size(e)
    return full > 150 and full > 4 * len({n for n in walk(e)})


def name_shared(e: Expr) -> tuple[Expr, list[tuple[Symbol, Expr]]]:
    """(e with its repeated non-trivial subexpressions replaced by t₁, t₂, …, the
    definitions in order, each using only earlier names)."""
    canon: dict[Expr, Expr] = {}
    order = [canon.setdefault(n, n) for n in walk(e)]
    refs: dict[Expr, int] = {}
    seen: set[int] = set()
    for node in order:
        if id(node) in seen:
            continue
        seen.add(id(node))
        for k in node.children():
            refs[canon[k]] = refs.get(canon[k], 0) + 1
    taken = {s.name for s in walk(e) if isinstance(s, Symbol)}
    letter = next(c for c in "tuvwqrsz" if not any(n.split("_")[0] == c for n in taken))
    names: dict[Expr, Symbol] = {}
    definitions: list[tuple[Symbol, Expr]] = []
    memo: dict[Expr, Expr] = {}
    for node in order:
        if node in memo:
            continue
        kids = node.children()
        body = node.rebuild(memo[canon[k]] for k in kids) if kids else node
        if refs.get(node, 0) >= 2 and not isinstance(node, _TRIVIAL) and \
                not (isinstance(node, Transpose) and isinstance(node.arg, _TRIVIAL)):
            name = Symbol(f"{letter}_{len(names) + 1}", node.shape)
            names[node] = name
            definitions.append((name, body))
            memo[node] = name
        else:
            memo[node] = body
    return memo[canon[e]], definitions


def shape_text(shape, style: str = "pretty") -> str:
    """ℝ^{m×n} in words: 'scalar', 'vector n', 'm×n'."""
    if shape == ():
        return "scalar"
    rows, cols = shape
    if cols == 1:
        return f"vector {rows}" if style != "latex" else f"\\mathbb{{R}}^{{{rows}}}"
    if style == "latex":
        return f"\\mathbb{{R}}^{{{rows}\\times {cols}}}"
    return f"{rows}×{cols}"


STAGES.update(text=to_text, pretty=to_pretty, latex=to_latex)
