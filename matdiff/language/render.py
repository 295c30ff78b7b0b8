"""Stage 6 — render: text (round-trips through the grammar), Unicode and LaTeX.

One printer, three styles.  Parentheses come from one precedence table: a child is
wrapped when its precedence is below what its parent needs.  A product whose scalar
factors have negative powers prints as a fraction (x/‖x‖); a negative coefficient prints
as a minus sign, and inside a sum as `a − b`.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from fractions import Fraction

from ..core.names import ACCENTS, FUNCTIONS, GREEK_NAMES, name_parts, split_run
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
               "tanh": "\\tanh", "sigmoid": "\\sigma", "tan": "\\tan", "arcsin": "\\arcsin",
               "arccos": "\\arccos", "arctan": "\\arctan"}


class Printer:
    """Render one expression in one style; each node type has a method ``_<Name>``."""

    def __init__(self, style: Style, sized: frozenset = frozenset(), sigma_free: bool = True,
                 bold: bool = False):
        self.s = style
        self.latex = style is LATEX
        self.bold = bold and self.latex   # vectors and matrices in bold, as MML prints
        self.norm_depth = 0
        self.sized = sized             # constants printed with their size: I_n, 𝟏_n, 0_(m×n)
        self.sigma_free = sigma_free   # False when σ names a symbol: print sigmoid(·)

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
        letter, accent, sub, label = name_parts(name)
        if self.latex:
            letter = "\\" + GREEK_NAMES[letter] if letter in GREEK_NAMES else letter
            letter = f"\\{accent}{{{letter}}}" if accent else letter
            out = f"{letter}_{{{sub}}}" if sub else letter
            return f"{{{out}^{{{label}}}}}" if label else out   # {W^{(3)}}^{\top}
        if self.s is TEXT and letter in GREEK_NAMES:
            letter = GREEK_NAMES[letter]
        if accent:
            letter = f"{letter}_{accent}" if self.s is TEXT else \
                unicodedata.normalize("NFC", letter + ACCENTS[accent])
        # h^k (a letter label) as typed; h^{(k)} keeps its braces (a^{b} is a power)
        tail = "" if not label else f"^{label}" if label.isalpha() and len(label) == 1 \
            else f"^{{{label}}}"
        if not sub:
            return letter + tail
        if self.s is PRETTY and sub.isdigit():
            return letter + sub.translate(_SUB) + tail
        return (f"{letter}_{sub}" if len(sub) == 1 or sub.isdigit() else
                f"{letter}_{{{sub}}}") + tail

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

    def size(self, head: str, dims) -> str:
        """A constant with its size: I_n, 𝟏_3, I_(m·n), 0_(m×n) (0_(m,n) in text)."""
        if self.latex:
            sep = "\\times "
            return f"{head}_{{{sep.join(str(d) for d in dims)}}}"
        if len(dims) == 1 and re.fullmatch(r"[A-Za-z]|[0-9]+", str(dims[0])):
            return f"{head}_{dims[0]}"
        sep = "," if self.s is TEXT else "×"
        return f"{head}_({sep.join(str(d) for d in dims)})"

    def _Identity(self, e):
        return (self.size("I", (e.n,)) if e in self.sized else
                "\\boldsymbol{I}" if self.bold else "I"), ATOM

    def _Zero(self, e):
        if e.shape_ == ():
            return "0", ATOM
        rows, cols = e.shape_
        return self.size("0", (rows,) if cols == 1 else (rows, cols)), ATOM

    def _Ones(self, e):
        one = "\\mathbf{1}" if self.latex else "𝟏"
        rows, cols = e.shape_
        sized = e in self.sized
        column = self.size(one, (rows,)) if sized else one
        if cols == 1:
            return column, ATOM
        row = (self.size(one, (cols,)) if sized else one) + self.s.transpose
        if rows == 1:
            return row, POSTFIX   # 𝟏ᵀ, a row of ones
        return f"{column}{' ' if self.s is not PRETTY and sized else ''}{row}", MUL

    def _DimSize(self, e):
        """A dimension as a number: tr(I_n), never the bare name (which reads as a symbol)."""
        if self.latex:
            return f"\\operatorname{{tr}}{self.paren(self.size('I', (e.dim,)))}", ATOM
        return f"tr({self.size('I', (e.dim,))})", ATOM

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
        if negative:   # −x/c is (−x)/c to the parser: a quotient, bracketed after ./ or ⊙
            text, prec = self.show(body)
            if prec < DIV:
                return f"{self.s.minus}{self.paren(text)}", NEG
            return f"{self.s.minus}{text}", min(prec, NEG)
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

    # ⊙, ./, / and ⊗ share one left-associative level of the grammar (`term`): a left
    # operand may be any term, a right operand must be a unary (so a ./ (b/c), never
    # a ./ b/c, which reads back as (a ./ b)/c).

    def _Hadamard(self, e: Hadamard):
        first, *rest = e.factors
        return self.s.hadamard.join([self.wrap(first, HAD)] +
                                    [self.wrap(f, NEG) for f in rest]), HAD

    def _ElemDiv(self, e: ElemDiv):
        return f"{self.wrap(e.num, HAD)}{self.s.elemdiv}{self.wrap(e.den, NEG)}", HAD

    def _Power(self, e: Power):
        k = e.exponent
        if k < 0 and e.base.shape == ():
            return self._Mul(Mul((e,)))
        if isinstance(e.base, Transpose) and isinstance(e.base.arg, Inverse) and k == 1:
            return self.show(e.base)
        base = self.wrap(e.base, ATOM)
        if isinstance(e.base, Const) and e.base.value.denominator != 1 and \
                not base.startswith(self.s.lparen) and base not in _VULGAR.values():
            base = self.paren(base)   # (1/2)^(1/2): 1/2^(1/2) would misread after a '/'
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
        if self.latex:   # MUL: (\log\det C)^{2}, as \log\det(C)^{2} reads log(det(C)²)
            return f"\\log\\det{self.paren(self(e.arg))}", MUL
        return f"log det({self(e.arg)})", MUL   # (log det X)², not log det(X)²

    def _Func(self, e: Func):
        if e.name == "sqrt" and self.latex:
            return f"\\sqrt{{{self(e.arg)}}}", ATOM
        name = "σ" if e.name == "sigmoid" and self.s is PRETTY and self.sigma_free else e.name
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

    def _SoftmaxRows(self, e):   # of a matrix softmax reads row-wise; of a column, say so
        return self._rows("softmax", e)

    def _LogSumExpRows(self, e):
        return self._rows("logsumexp", e)

    def _rows(self, name, e):
        if e.arg.shape[1] != 1:
            return self.call(name, e.arg)
        return self.call(name + "_rows", e.arg, "\\operatorname{%s\\_rows}" % name)

    def _ElemPower(self, e):
        """a^b of scalars; X.^p (text), X^∘p (Unicode), X^{∘p} (LaTeX) entrywise."""
        base = self.wrap(e.base, ATOM)
        if self.latex:
            ring = "" if e.base.shape == () else "\\circ "
            return f"{base}^{{{ring}{self(e.exponent)}}}", POSTFIX
        op = "^" if e.base.shape == () else "^∘" if self.s is PRETTY else ".^"
        exponent = self.wrap(e.exponent, ATOM)
        if op == "^" and isinstance(e.exponent, Symbol) and exponent.isalpha():
            exponent = f"({exponent})"   # a^b would read back as the labelled name a^b
        return f"{base}{op}{exponent}", POSTFIX

    def _Kron(self, e: Kron):
        op = " \\otimes " if self.latex else " ⊗ "
        return f"{self.wrap(e.left, HAD)}{op}{self.wrap(e.right, NEG)}", HAD

    def _Commutation(self, e: Commutation):
        if self.latex:
            return f"K_{{{e.m},{e.n}}}", ATOM
        if self.s is PRETTY:
            return f"K_({e.m},{e.n})", ATOM
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
    if b in FUNCTIONS and b != "σ" or b.startswith(("I_", "K_", "𝟏_")) and \
            right[len(b):].startswith("("):
        return False   # C softmax(y), τ log det(B), A K_(m,n): not Csoftmax(y), τlog det(B)
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


def to_text(e: Expr, shared: bool | None = False, names=(), known_shape: bool = False) -> str:
    """Plain text in the matdiff language: ``parse(to_text(e))`` reads back e's value.
    ``shared=True`` names repeated subexpressions (where t_1 = …); None decides by size.
    ``names``: further symbol names in scope (a declared σ makes sigmoid print as
    sigmoid(·)); ``known_shape``: the reader knows e's shape (a derivative's layout fixes
    it), so I and 𝟏 that fill it need no size."""
    return _render(TEXT, e, shared, names, known_shape)


def to_pretty(e: Expr, shared: bool | None = False, names=(), known_shape: bool = False) -> str:
    """Unicode for terminals: −2AᵀW(x − As)."""
    return _render(PRETTY, e, shared, names, known_shape)


def to_latex(e: Expr, shared: bool | None = False, names=(), known_shape: bool = False,
             bold: bool = False) -> str:
    """LaTeX (amsmath); ``bold``: vectors and matrices as \\boldsymbol{x}, as MML prints."""
    return _render(LATEX, e, shared, names, known_shape, bold)


# ----- sizes: which I, 𝟏 must carry their size to read back --------------------------------

def unfixed_constants(e: Expr, known_shape: bool = False) -> frozenset:
    """The identities and ones in e whose size nothing else in e fixes (so that I, 𝟏 alone
    would read back with a different or unknown size): they print as I_n, 𝟏_n.

    Found by reading e again as the parser would (every I and 𝟏 without its size, every
    symbol with its shape) and seeing which sizes the inference cannot pin to a symbol's
    dimension.  Inside a Kronecker product every I and 𝟏 carries its size.
    """
    from ..core.shapes import Decl, infer
    constants = [n for n in walk(e) if isinstance(n, (Identity, Ones))]
    if not constants:
        return frozenset()
    always: set = set()
    marks: dict[int, Expr] = {}
    memo: dict[int, Expr] = {}

    def mark(node):
        span = (len(marks), len(marks))
        marks[span[0]] = node
        return span

    def strip(node):
        if id(node) in memo:
            return memo[id(node)]
        if isinstance(node, Identity):
            out = Identity(None, span=mark(node))
        elif isinstance(node, Ones) and node.shape_[1] == 1:
            out = Ones(None, span=mark(node))
        elif isinstance(node, Ones):
            out = Mul((Ones(None, span=mark(node)), Transpose(Ones(None, span=mark(node)))))
        elif isinstance(node, Kron):
            always.update(n for n in walk(node) if isinstance(n, (Identity, Ones)))
            out = node
        else:
            kids = node.children()
            out = node.rebuild(strip(k) for k in kids) if kids else node
        memo[id(node)] = out
        return out

    symbols = {n.name: n for n in walk(e) if isinstance(n, Symbol)}
    fixed = {d for s in symbols.values() for d in s.shape_ or ()}
    if known_shape:
        fixed.update(e.shape)
    for n in walk(e):
        if isinstance(n, Zero):
            fixed.update(n.shape_)
        elif isinstance(n, DimSize):
            fixed.add(n.dim)
        elif isinstance(n, Commutation):
            fixed.update((n.m, n.n))
        elif n in always:
            fixed.update(n.shape)
    try:
        surface = strip(e)
        if known_shape and e.shape != ():
            surface = Add((surface, Zero(e.shape)))
        typed, _ = infer(surface, {k: Decl(s.shape_, s.symmetric) for k, s in symbols.items()})
    except Exception:   # noqa: BLE001 — cannot tell: print every size
        return frozenset(constants)
    out = set(always)
    for node in walk(typed):
        if isinstance(node, (Identity, Ones)) and node.span is not None and \
                node.span[0] in marks:
            dims = (node.n,) if isinstance(node, Identity) else node.shape_
            if any(not isinstance(d, int) and d not in fixed for d in dims):
                out.add(marks[node.span[0]])
    return frozenset(out)


# ----- shared subexpressions: t₁ = tanh(x), t₂ = tanh(t₁), … --------------------------------

_TRIVIAL = (Symbol, Const, Identity, Zero, Ones, DimSize, Differential)


def _render(style: Style, e: Expr, shared: bool | None, names=(), known_shape=False,
            bold: bool = False) -> str:
    with deep_recursion():
        sigma = "σ" in names or any(isinstance(n, Symbol) and n.name == "σ" for n in walk(e))
        printer = Printer(style, unfixed_constants(e, known_shape), not sigma, bold)
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
