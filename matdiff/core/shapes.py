"""Stage 2 — shapes: declarations, inference by unification, and the shape rules.

Default shapes: a lowercase Latin name is a column vector, an uppercase Latin name a
matrix, a lowercase Greek name a scalar, an uppercase Greek name (Σ, Λ) a matrix.  Every
dimension is symbolic and inferred by unification (``x'Ax`` ⇒ A is n×n).  Declarations
override the defaults.  Defaults are guesses, revised before any broadcasting: μ in
``x − μ`` becomes a vector, λ in ``Σ + λ`` becomes λI; every guess that decides the
meaning is written to the notes.

:func:`infer` turns a surface tree into a typed tree (every Symbol has a shape; surface
nodes Diag and Div are resolved; products are grouped so that scalar-valued sub-products
stay single factors).  :func:`shape_of` is the shape rule of each typed node.

1×1 is treated as a scalar in exactly one place: :func:`chain_shape`.
"""
from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from fractions import Fraction
from functools import singledispatch
from typing import Callable

from .errors import DeclarationError, NoRuleError, ShapeError
from .names import GREEK_NAMES, canonical_name, is_valid_name
from .nodes import (
    STAGES,
    Add,
    Commutation,
    Const,
    Det,
    Diag,
    DiagMat,
    DiagVec,
    Differential,
    DimSize,
    Div,
    ElemDiv,
    ElemPower,
    Expr,
    Func,
    Hadamard,
    Identity,
    Inverse,
    Kron,
    LogDet,
    LogSoftmax,
    LogSumExp,
    LogSumExpRows,
    Mean,
    Mul,
    Norm,
    Ones,
    Power,
    Softmax,
    SoftmaxRows,
    Sum,
    Symbol,
    Trace,
    Transpose,
    Vec,
    Zero,
    dim_product,
    symbols_of,
)

# ----- declarations ----------------------------------------------------------------


@dataclass(frozen=True)
class Decl:
    """What the user said about one symbol: its shape (dims may be None) and structure."""
    shape: tuple | None = None
    symmetric: bool = False
    probability: bool = False


_DIM = r"(?:\d+|[A-Za-z][A-Za-z0-9_]*)"
_MATRIX = re.compile(rf"^\(?\s*({_DIM})\s*(?:×|x|\*|,)\s*({_DIM})\s*\)?$")


def _dim(text: str):
    return int(text) if text.isdigit() else text


def parse_spec(spec) -> Decl:
    """One declaration (see :func:`_read_spec`), with every fixed dimension positive."""
    decl = _read_spec(spec)
    if decl.shape and any(isinstance(d, int) and d < 1 for d in decl.shape):
        raise DeclarationError(f"dimensions must be positive, got {spec!r}")
    return decl


def _read_spec(spec) -> Decl:
    """One declaration, or 'probability [n]': a probability vector (entries ≥ 0, sum 1)."""
    if isinstance(spec, str) and "probability" in spec.split():
        rest = " ".join(w for w in spec.split() if w != "probability")
        decl = _read_shape_spec(rest if rest.strip() else "vector")
        if decl.shape is None or decl.shape[1:] != (1,) or decl.symmetric:
            raise DeclarationError(f"a probability is a vector, got {spec!r}")
        return Decl(decl.shape, False, True)
    return _read_shape_spec(spec)


def _read_shape_spec(spec) -> Decl:
    """One declaration: 'scalar', 'vector [n]', 'matrix [m×n]', 'm×n', 'n', 'symmetric [n]',
    or a tuple: () scalar, (n,) vector, (m, n) matrix."""
    if isinstance(spec, Decl):
        return spec
    if isinstance(spec, (tuple, list)):
        if len(spec) > 2 or not all(isinstance(d, (int, str)) for d in spec):
            raise DeclarationError(f"a shape is (), (n,) or (m, n), got {spec!r}")
        dims = tuple(_dim(d) if isinstance(d, str) else d for d in spec)
        if any(isinstance(d, int) and d < 1 for d in dims):
            raise DeclarationError(f"dimensions must be positive, got {spec!r}")
        return Decl(() if not dims else (dims[0], 1) if len(dims) == 1 else dims)
    if not isinstance(spec, str):
        raise DeclarationError(f"cannot read the declaration {spec!r}")
    words = spec.replace(",", " , ").split()
    _check_keywords(spec, words)
    symmetric = "symmetric" in words
    words = [w for w in words if w not in ("symmetric", "square")]
    square = symmetric or "square" in spec.split()
    rest = " ".join(words).replace(" , ", ",")
    if rest in ("scalar",):
        return Decl((), symmetric)
    kind = None
    if words and words[0] in ("vector", "matrix", "row"):
        kind, rest = words[0], " ".join(words[1:]).replace(" , ", ",")
    if kind == "row":
        return Decl((1, _dim(rest) if rest else None), symmetric)
    if not rest:
        shape = (None, 1) if kind == "vector" else (None, None)
        return Decl(shape, symmetric)
    m = _MATRIX.match(rest)
    if m and kind != "vector":
        return Decl((_dim(m.group(1)), _dim(m.group(2))), symmetric)
    if re.fullmatch(_DIM, rest):
        d = _dim(rest)
        return Decl((d, d) if square or kind == "matrix" else (d, 1), symmetric)
    raise DeclarationError(f"cannot read the shape {spec!r}: write scalar, vector n, m×n or "
                           f"symmetric n")


_KEYWORDS = ("scalar", "vector", "matrix", "row", "symmetric", "square")


def _check_keywords(spec: str, words: list[str]) -> None:
    """A word where a keyword goes that is a misspelled keyword is an error, not a
    dimension name: 'symetric' → did you mean 'symmetric'?  A dimension name is an
    identifier after a keyword ('vector rows') or one that looks like no keyword."""
    import difflib
    for i, word in enumerate(words):
        if word in _KEYWORDS or re.fullmatch(r"\d+|,|[×x*]", word):
            continue
        after_kind = i > 0 and words[i - 1] in _KEYWORDS
        keywords = [k for k in _KEYWORDS if not (after_kind and k == "row")]  # vector rows
        close = difflib.get_close_matches(word.lower(), keywords, n=1, cutoff=0.75)
        if close and len(word) >= 4:
            raise DeclarationError(f"cannot read the shape {spec!r}: {word!r} is not a "
                                   f"keyword; did you mean {close[0]!r}?")


def parse_declarations(text: str) -> dict[str, Decl]:
    """CLI syntax: 'c: scalar; A: m×n; W: symmetric; x1, x2: scalar; x: 3'."""
    out: dict[str, Decl] = {}
    for part in filter(None, (p.strip() for p in text.split(";"))):
        if ":" not in part:
            raise DeclarationError(f"a declaration is 'name: shape', got {part!r}")
        names, spec = part.split(":", 1)
        decl = parse_spec(spec.strip())
        for name in filter(None, (n.strip() for n in names.split(","))):
            _add_decl(out, name, decl)
    return out


def _add_decl(out: dict[str, Decl], name: str, decl: Decl) -> None:
    if not is_valid_name(name):
        raise DeclarationError(f"{name!r} is not a valid symbol name (a letter with an "
                               f"optional subscript, e.g. x, W_1, h_k, alpha)")
    key = canonical_name(name)
    old = out.get(key)
    if old is not None:  # 'W: symmetric' and 'W: n×n' combine
        decl = Decl(decl.shape if decl.shape is not None else old.shape,
                    decl.symmetric or old.symmetric, decl.probability or old.probability)
    out[key] = decl


def declarations(shapes=None, symmetric=()) -> dict[str, Decl]:
    """Normalise the API arguments ``shapes=`` and ``symmetric=`` into Decls."""
    out: dict[str, Decl] = {}
    if isinstance(shapes, str):
        out.update(parse_declarations(shapes))
    elif shapes:
        for name, spec in dict(shapes).items():
            _add_decl(out, name, parse_spec(spec))
    if isinstance(symmetric, str):
        symmetric = [symmetric]
    for name in symmetric or ():
        _add_decl(out, name, Decl(None, True))
    return out


# ----- unification ---------------------------------------------------------------------

class Var:
    """An unknown dimension."""
    __slots__ = ()


class Unifier:
    """Union-find over dimensions; a class may be fixed to an int or a declared name."""

    def __init__(self, source: str | None = None):
        self.parent: dict = {}
        self.source = source
        self.names: dict = {}

    def find(self, d):
        while isinstance(d, Var) and d in self.parent:
            d = self.parent[d]
        return d

    def unify(self, a, b) -> bool:
        a, b = self.find(a), self.find(b)
        if a is b or a == b:
            return True
        if isinstance(a, Var) and b != 1:
            self.parent[a] = b
            return True
        if isinstance(b, Var) and a != 1:
            self.parent[b] = a
            return True
        return False

    def show_dim(self, d) -> str:
        d = self.find(d)
        if not isinstance(d, Var):
            return str(d)
        if d not in self.names:
            self.names[d] = "nmkpqrstuvw"[len(self.names) % 11] + ("'" * (len(self.names) // 11))
        return self.names[d]

    def show(self, shape) -> str:
        if shape == ():
            return "scalar"
        return "×".join(self.show_dim(d) for d in shape)


def numpy_shape(shape: tuple) -> tuple:
    """Matrix shape → numpy shape: a column vector n×1 is (n,); scalars and matrices stay."""
    return shape[:1] if len(shape) == 2 and shape[1] == 1 else tuple(shape)


def show_shape(shape) -> str:
    return "scalar" if shape == () else "×".join(str(d) for d in shape)


def chain_shape(shapes, unify, fail):
    """The shape of a product: scalars commute; the rest multiply as matrices in order.

    The one place where 1×1 becomes a scalar: a chain whose result is 1×1 is a scalar.
    ``unify(a, b)`` says whether two dims can be equal; ``fail(i, acc, s)`` raises.
    """
    acc = None
    for i, s in enumerate(shapes):
        if s == ():
            continue
        if acc is None:
            acc = s
            continue
        if not unify(acc[1], s[0]):
            fail(i, acc, s)
        acc = (acc[0], s[1])
    if acc is None or (acc[0] == 1 and acc[1] == 1):
        return ()
    return acc


# ----- inference --------------------------------------------------------------------------

class _Inference:
    """One pass over a surface tree: shapes with unknown dims, products regrouped."""

    def __init__(self, decls: dict[str, Decl], source: str | None,
                 revised: dict[str, str] | None = None):
        self.decls = decls
        self.source = source
        self.u = Unifier(source)
        self.symbol_shapes: dict[str, tuple] = {}
        self.order: list = []
        self.notes: list[str] = []
        self.revised = revised or {}          # name → 'vector' | 'row': a revised guess
        self.wanted: dict[str, tuple[str, str]] = {}   # revisions found by this pass
        self.in_sum = False                   # inside sum(·) through entrywise steps only
        self.eager: set[str] = set()
        self.seen: dict[int, tuple] = {}
        self.columns = False   # a vector plus a matrix adds it to every column (programs)
        self.keep: list = []   # the visited nodes stay alive, so their ids stay theirs
        self.quiet = False     # no one reads the notes (a printer's re-reading): skip them

    def guessed_scalar(self, name: str) -> bool:
        """A scalar only by its letter (α, μ, λ): a guess that the expression may revise."""
        decl = self.decls.get(name)
        return (decl is None or decl.shape is None) and name not in self.revised and \
            _default_shape(name) == ()

    # errors
    def error(self, message: str, where):
        span = where if isinstance(where, tuple) or where is None else where.span
        raise ShapeError(message, self.source, span)

    def note(self, text: Callable[[], str]) -> None:
        """Add a note, written only when someone reads the notes: naming a subexpression
        prints it, and the printer itself re-reads what it prints (quiet), so eager names
        made printing quadratic in the size of the result."""
        if not self.quiet:
            self.notes.append(text())

    def named(self, node: Expr) -> str:
        if self.source and node.span:
            return f"'{self.source[node.span[0]:node.span[1]].strip()}'"
        try:
            return f"'{STAGES['pretty'](node)}'"
        except Exception:  # pragma: no cover - printing a half-typed node
            return type(node).__name__

    def square(self, shape, node, what):
        if shape == ():
            return
        if not self.u.unify(shape[0], shape[1]):
            self.error(f"{what} needs a square matrix, but {self.named(node)} is "
                       f"{self.u.show(shape)}", node)

    def same(self, a, b, node, left, right, what):
        if a == () or b == ():
            return b if a == () else a
        if not (self.u.unify(a[0], b[0]) and self.u.unify(a[1], b[1])):
            self.error(f"cannot {what} {self.named(left)} ({self.u.show(a)}) and "
                       f"{self.named(right)} ({self.u.show(b)}): shapes differ", node)
        return a

    # the walk
    def run(self, e: Expr):
        return self.visit(e)

    def visit(self, e: Expr):
        done = self.seen.get(id(e))   # a shared subtree (a read-back `where` form) once
        if done is not None:
            return done
        method = getattr(self, "visit_" + type(e).__name__)
        keep = self.in_sum
        if type(e) not in _ENTRYWISE or (type(e) is Mul and sum(
                not isinstance(f, Const) for f in e.factors) > 1):
            self.in_sum = False
        try:
            out = method(e)
        finally:
            self.in_sum = keep
        self.seen[id(e)] = out
        self.keep.append(e)
        return out

    def visit_Symbol(self, e: Symbol):
        if e.name not in self.symbol_shapes:
            decl = self.decls.get(e.name, Decl())
            shape = decl.shape if decl.shape is not None else \
                _REVISED.get(self.revised.get(e.name), _default_shape(e.name))
            shape = tuple(Var() if d is None else d for d in shape)
            if decl.symmetric:
                self.square(shape, e, f"symmetric {e.name}")
            self.symbol_shapes[e.name] = shape
            self.order.append(e.name)
        shape = self.symbol_shapes[e.name]
        decl = self.decls.get(e.name, Decl())
        return Symbol(e.name, shape, decl.symmetric, decl.probability, span=e.span), shape

    def visit_Const(self, e):
        return e, ()

    def visit_Identity(self, e):
        v = Var() if e.n is None else e.n   # I, or I_n / I₃ with its size
        return Identity(v, span=e.span), (v, v)

    def visit_Ones(self, e):
        shape = (Var(), 1) if e.shape_ is None else \
            (Var(), Var()) if e.shape_ == (None, None) else e.shape_   # 𝟏, matrix(1), 𝟏_n
        return Ones(shape, span=e.span), shape

    def visit_Zero(self, e):
        return e, e.shape_

    def visit_DimSize(self, e):
        return e, ()

    def visit_Commutation(self, e):
        n = dim_product(e.m, e.n)
        return e, (n, n)

    def visit_Differential(self, e):
        of, shape = self.visit(e.of)
        return Differential(of, span=e.span), shape

    def known(self, shape):
        """The dims of a Kronecker factor or a vec argument, each unknown one named now (a
        product of sizes is a name such as 'm·n', so its factors need names first)."""
        out = []
        for d in shape:
            d = self.u.find(d)
            if isinstance(d, Var):
                taken = {str(self.u.find(x)) for s in self.symbol_shapes.values() for x in s}
                taken |= {str(x) for decl in self.decls.values() for x in (decl.shape or ())}
                taken |= self.eager
                name = next(n for n in itertools.chain("mnkpqrstuvw",
                                                        (f"d{i}" for i in itertools.count(1)))
                            if n not in taken)
                self.eager.add(name)
                self.u.unify(d, name)
                d = name
            out.append(d)
        return tuple(out)

    def visit_Kron(self, e):
        (a, sa), (b, sb) = self.visit(e.left), self.visit(e.right)
        (p, q), (r, t) = (self.known(s) if s != () else (1, 1) for s in (sa, sb))
        return Kron(a, b, span=e.span), (dim_product(p, r), dim_product(q, t))

    def visit_Vec(self, e):
        arg, shape = self.visit(e.arg)
        if shape == ():
            return arg, ()
        m, n = self.known(shape)
        return Vec(arg, span=e.span), (dim_product(m, n), 1)

    def visit_Mul(self, e: Mul):
        items = [self.visit(f) for f in e.factors]
        factors, chain, acc = [], [], None
        for (node, shape), src in zip(items, e.factors):
            if shape == ():
                factors.append(node)
                continue
            if acc is None:
                chain, acc = [node], shape
            else:
                if not self.u.unify(acc[1], shape[0]):
                    left = Mul(tuple(chain), span=_join(chain))
                    self.error(f"cannot multiply {self.named(left)} ({self.u.show(acc)}) by "
                               f"{self.named(src)} ({self.u.show(shape)}): "
                               f"{self.u.show_dim(acc[1])} columns ≠ "
                               f"{self.u.show_dim(shape[0])} rows", _join((left, src)))
                chain.append(node)
                acc = (acc[0], shape[1])
            if chain_shape([acc], None, None) == ():   # the chain closed into a scalar
                factors.append(chain[0] if len(chain) == 1 else
                               Mul(tuple(chain), span=_join(chain)))
                chain, acc = [], None
        if chain:
            factors.extend(chain)
        node = factors[0] if len(factors) == 1 else Mul(tuple(factors), span=e.span)
        return node, (acc if acc is not None else ())

    def visit_Add(self, e: Add):
        items = [self.visit(t) for t in e.terms]
        if self.columns:
            items = self.bias_columns(items, e)
        shape, first = (), None
        for (node, s), src in zip(items, e.terms):
            if s != () and shape != ():
                self.same(shape, s, e, first, src, "add")
            if s != () and shape == ():
                shape, first = s, src
        if shape != ():
            items = [(self.scalar_term(node, src, first, shape, e), s) if s == () else
                     (node, s) for (node, s), src in zip(items, e.terms)]
        return Add(tuple(n for n, _ in items), span=e.span), shape

    def bias_columns(self, items, e: Add):
        """In a program's definitions, a vector added to a matrix (WX + b) is added to
        every column, as ML code broadcasts a bias: b becomes b𝟏ᵀ (said in a note)."""
        wide = next(((n, s, src) for (n, s), src in zip(items, e.terms)
                     if s != () and self.u.find(s[1]) != 1), None)
        if wide is None:
            return items
        node, shape, first = wide
        out = []
        for (n, s), src in zip(items, e.terms):
            if s != () and self.u.find(s[1]) == 1 and self.u.unify(s[0], shape[0]):
                ones = Transpose(Ones((shape[1], 1)), span=src.span)
                self.note(lambda: f"{self.named(e)}: the vector {self.named(src)} is added "
                                  f"to every column of {self.named(first)} (read as "
                                  f"{self.named(src)[1:-1]}𝟏ᵀ, a bias broadcast as ML code "
                                  f"does)")
                n, s = Mul((n, ones), span=src.span), shape
            out.append((n, s))
        return out

    def scalar_term(self, node, src, other, shape, whole):
        """A scalar term of a vector or matrix sum: revise a guessed scalar, else broadcast.

        μ in x − μ (a scalar only by its letter) becomes a vector like x; λ in Σ + λ
        becomes λI; a number broadcasts silently; any other scalar broadcasts with a note."""
        lone, flipped = _lone_symbol(src)
        vector = self.u.find(shape[1]) == 1 or self.u.find(shape[0]) == 1
        def where() -> str:
            return self.named(whole)

        def what() -> str:
            return self.named(other)
        if lone is not None and self.guessed_scalar(lone.name) and (vector or not flipped):
            if vector:
                kind = "vector" if (self.u.find(shape[1]) == 1) != flipped else "row"
                self.wanted[lone.name] = (kind, "" if self.quiet else (
                    f"{where()}: {lone.name} is read as a {kind} like {what()} (its letter "
                    f"only suggests a scalar); declare '{lone.name}: scalar' to add it to "
                    f"every entry instead"))
                return node
            v = Var()
            if self.u.unify(shape[0], v) and self.u.unify(shape[1], v):
                self.note(lambda: f"{where()}: the scalar {lone.name} added to the matrix "
                                  f"{what()} is read as {lone.name}I (so {what()} is square); "
                                  f"declare '{lone.name}: scalar' to add it to every entry")
                return Mul((node, Identity(v, span=src.span)), span=src.span)
        if symbols_of(node):
            kind = "vector" if vector else "matrix"
            self.note(lambda: f"{where()}: the scalar {self.named(src)} is added to every "
                              f"entry of the {kind} {what()} (a broadcast)")
        return node

    def visit_Hadamard(self, e: Hadamard):
        items = [self.visit(f) for f in e.factors]
        shape, first = (), None
        for (node, s), src in zip(items, e.factors):
            if s != () and shape != ():
                self.same(shape, s, e, first, src, "take the entrywise product of")
            if s != () and shape == ():
                shape, first = s, src
        return Hadamard(tuple(n for n, _ in items), span=e.span), shape

    def visit_ElemDiv(self, e: ElemDiv):
        (num, a), (den, b) = self.visit(e.num), self.visit(e.den)
        shape = self.same(a, b, e, e.num, e.den, "divide entrywise")
        return ElemDiv(num, den, span=e.span), shape

    def visit_Div(self, e: Div):
        (num, a), (den, b) = self.visit(e.num), self.visit(e.den)
        if b != ():
            self.error(f"cannot divide by {self.named(e.den)} ({self.u.show(b)}): '/' divides "
                       f"by a scalar; use ./ for entrywise division or ⁻¹ for an inverse", e)
        inv = Power(den, Fraction(-1), span=e.den.span)
        return Mul((num, inv), span=e.span), a

    def visit_Power(self, e: Power):
        if isinstance(e.exponent, Expr):   # a^b with a symbolic exponent: scalars only
            self._scalar_by_default(e.base)
            base, shape = self.visit(e.base)
            if shape != ():
                self.error(f"{self.named(e.base)} is {self.u.show(shape)}: a symbolic "
                           f"power needs a scalar base (write .^ for an entrywise power)", e)
            return self.visit_ElemPower(ElemPower(e.base, e.exponent, span=e.span))
        entrywise = self.in_sum
        base, shape = self.visit(e.base)
        if shape == ():
            return Power(base, e.exponent, span=e.span), ()
        k = e.exponent
        if entrywise and k.denominator == 1 and k >= 2:
            vector = self.u.find(shape[1]) == 1 or self.u.find(shape[0]) == 1
            square = self.u.find(shape[0]) is self.u.find(shape[1]) or \
                self.u.find(shape[0]) == self.u.find(shape[1])
            if vector or not square:
                def entrywise_note() -> str:
                    inner = self.named(e.base)[1:-1]
                    why = "a vector has no matrix power" if vector else \
                        f"a matrix power would force {inner} to be square"
                    return (f"{self.named(e)} inside sum(·) is read entrywise, as "
                            f"{' ⊙ '.join([f'({inner})'] * int(k))} (the sum of the entries' "
                            f"powers); {why}")
                self.note(entrywise_note)
                return Hadamard((base,) * int(k), span=e.span), shape
            self.note(lambda: f"{self.named(e)} inside sum(·) is a matrix power of the square "
                              f"{self.named(e.base)}; write "
                              f"{self.named(e.base)[1:-1]} ⊙ {self.named(e.base)[1:-1]} for the "
                              f"entrywise square")
        if e.exponent.denominator != 1:
            self.error(f"a matrix power needs an integer exponent, got {e.exponent}", e)
        if shape[1] == 1 or shape[0] == 1:
            self.error(f"{self.named(e.base)} is a vector ({self.u.show(shape)}): write "
                       f"‖x‖² or x ⊙ x rather than a power of a vector", e)
        self.square(shape, e.base, "a matrix power")
        if e.exponent < 0:
            base = Inverse(base, span=e.span)
        return Power(base, abs(e.exponent), span=e.span), shape

    def visit_Transpose(self, e: Transpose):
        arg, shape = self.visit(e.arg)
        if shape == ():
            return arg, ()
        return Transpose(arg, span=e.span), (shape[1], shape[0])

    def visit_Inverse(self, e: Inverse):
        arg, shape = self.visit(e.arg)
        if shape == ():
            return Power(arg, Fraction(-1), span=e.span), ()
        self.square(shape, e.arg, "the inverse")
        return Inverse(arg, span=e.span), shape

    def _square_scalar(self, e, what):
        arg, shape = self.visit(e.arg)
        self.square(shape, e.arg, what)
        return arg, shape

    def visit_Trace(self, e):
        if isinstance(e.arg, Kron):   # tr(A ⊗ B) = tr(A)tr(B): read with A and B square
            (a, sa), (b, sb) = self.visit(e.arg.left), self.visit(e.arg.right)
            for side, shape in ((e.arg.left, sa), (e.arg.right, sb)):
                if shape != ():
                    self.square(shape, side, "tr of a Kronecker product")
            kron, _ = self.visit_Kron(Kron(a, b, span=e.arg.span))
            return Trace(kron, span=e.span), ()
        arg, shape = self._square_scalar(e, "tr")
        return (arg if shape == () else Trace(arg, span=e.span)), ()

    def visit_Det(self, e):
        arg, shape = self._square_scalar(e, "det")
        return (arg if shape == () else Det(arg, span=e.span)), ()

    def visit_LogDet(self, e):
        arg, shape = self._square_scalar(e, "logdet")
        return (Func("log", arg, span=e.span) if shape == () else LogDet(arg, span=e.span)), ()

    def visit_Func(self, e: Func):
        arg, shape = self.visit(e.arg)
        return Func(e.name, arg, span=e.span), shape

    def visit_Sum(self, e: Sum):
        self.in_sum = True
        arg, shape = self.visit(e.arg)
        return (arg if shape == () else Sum(arg, span=e.span)), ()

    def visit_Diag(self, e: Diag):
        arg, shape = self.visit(e.arg)
        if shape == ():
            self.error(f"diag needs a vector or a square matrix, but {self.named(e.arg)} "
                       f"is a scalar", e)
        if shape[1] == 1:
            return DiagMat(arg, span=e.span), (shape[0], shape[0])
        if shape[0] == 1:
            return DiagMat(Transpose(arg), span=e.span), (shape[1], shape[1])
        self.square(shape, e.arg, "diag of a matrix")
        return DiagVec(arg, span=e.span), (shape[0], 1)

    def visit_DiagMat(self, e):
        return self.visit_Diag(e)

    visit_DiagVec = visit_DiagMat

    def _vector_arg(self, e, what):
        arg, shape = self.visit(e.arg)
        if shape == () or not self.u.unify(shape[1], 1):
            self.error(f"{what} needs a column vector, but {self.named(e.arg)} is "
                       f"{self.u.show(shape)}", e)
        return arg, shape

    def _is_matrix(self, shape) -> bool:
        """A matrix argument of softmax/logsumexp: its columns are not known to be 1."""
        return shape != () and self.u.find(shape[1]) != 1

    def visit_Softmax(self, e: Softmax):
        arg, shape = self.visit(e.arg)
        if self._is_matrix(shape):   # of a matrix: row by row, as attention uses it
            return SoftmaxRows(arg, span=e.span), shape
        arg, shape = self._vector_arg(e, "softmax")
        return Softmax(arg, span=e.span), shape

    def visit_LogSumExp(self, e: LogSumExp):
        arg, shape = self.visit(e.arg)
        if self._is_matrix(shape):   # of a matrix: row by row, an m×1 vector
            return LogSumExpRows(arg, span=e.span), (shape[0], 1)
        arg, _ = self._vector_arg(e, "logsumexp")
        return LogSumExp(arg, span=e.span), ()

    def visit_SoftmaxRows(self, e: SoftmaxRows):
        arg, shape = self.visit(e.arg)
        if shape == ():
            self.error(f"softmax needs a vector or a matrix, but {self.named(e.arg)} is a "
                       f"scalar", e)
        return SoftmaxRows(arg, span=e.span), shape

    def visit_LogSumExpRows(self, e: LogSumExpRows):
        arg, shape = self.visit(e.arg)
        if shape == ():
            self.error(f"logsumexp needs a vector or a matrix, but {self.named(e.arg)} is "
                       f"a scalar", e)
        return LogSumExpRows(arg, span=e.span), (shape[0], 1)

    def visit_LogSoftmax(self, e: LogSoftmax):
        """log_softmax(u) = u − logsumexp(u); of a matrix row by row: X − lse(X) 𝟏ᵀ."""
        arg, shape = self.visit(e.arg)
        if shape == ():
            self.error(f"log_softmax needs a vector or a matrix, but {self.named(e.arg)} "
                       f"is a scalar", e)
        if self._is_matrix(shape):
            ones_row = Transpose(Ones((shape[1], 1)))
            lse = Mul((LogSumExpRows(arg), ones_row))
        else:
            self.u.unify(shape[1], 1)
            lse = LogSumExp(arg)
        return Add((arg, Mul((Const(Fraction(-1)), lse))), span=e.span), shape

    def visit_Mean(self, e: Mean):
        """mean(X) = sum(X) / sum(𝟏𝟏ᵀ): the sum over the number of entries."""
        arg, shape = self.visit(e.arg)
        if shape == ():
            return arg, ()
        count = Sum(Ones(shape))
        return Mul((Sum(arg), Power(count, Fraction(-1))), span=e.span), ()

    def _scalar_by_default(self, e: Expr) -> None:
        """An undeclared name first met as a base or exponent of a symbolic power (a^b,
        x.^p, a^(b+1)) is a scalar, not a vector: a power makes sense only with a scalar
        there.  Only lowercase names in plain arithmetic (+ − · / of names and numbers) are
        taken so; a matrix name stays a matrix (and X^b is an error)."""
        if isinstance(e, (Add, Mul, Div)) and _plain_arithmetic(e):
            for k in e.children():
                self._scalar_by_default(k)
        if isinstance(e, Symbol) and e.name not in self.decls and \
                e.name not in self.symbol_shapes and _default_shape(e.name) == (None, 1):
            self.symbol_shapes[e.name] = ()
            self.order.append(e.name)

    def visit_ElemPower(self, e: ElemPower):
        self._scalar_by_default(e.exponent)
        (base, shape), (exponent, k) = self.visit(e.base), self.visit(e.exponent)
        if k != ():
            self.error(f"the exponent {self.named(e.exponent)} of an entrywise power must be "
                       f"a scalar, but it is {self.u.show(k)}", e.exponent)
        if isinstance(exponent, Const) and shape == ():
            return Power(base, exponent.value, span=e.span), ()
        return ElemPower(base, exponent, span=e.span), shape

    def visit_Norm(self, e: Norm):
        arg, shape = self.visit(e.arg)
        if shape == ():
            raise NoRuleError(f"‖·‖ of the scalar {self.named(e.arg)} (an absolute value) "
                              f"is not supported", self.source, e.span)
        is_vector = 1 in shape
        if not is_vector and e.kind != "F":
            self.error(f"‖{self.named(e.arg)[1:-1]}‖ of a matrix is ambiguous: write "
                       f"‖X‖_F for the Frobenius norm", e)
        return Norm(arg, "2" if is_vector else "F", span=e.span), ()

    # ----- naming and the typed tree -------------------------------------------------

    def finish(self, e: Expr) -> Expr:
        taken = {d for s in self.symbol_shapes.values() for d in map(self.u.find, s)
                 if isinstance(d, str)} | self.eager
        pool = (n for n in itertools.chain("mnkpqrstuvw", (f"d{i}" for i in itertools.count(1)))
                if n not in taken)
        names: dict = {}

        def dim(d):
            d = self.u.find(d)
            if not isinstance(d, Var):
                return d
            if d not in names:
                names[d] = next(pool)
            return names[d]

        for name in self.order:   # dims named in order of first appearance
            for d in self.symbol_shapes[name]:
                dim(d)
        memo: dict[int, Expr] = {}

        def rebuild(node: Expr) -> Expr:
            if id(node) in memo:
                return memo[id(node)]
            if isinstance(node, Symbol):
                out = Symbol(node.name, tuple(dim(d) for d in node.shape_), node.symmetric,
                             node.probability, span=node.span)
            elif isinstance(node, Identity):
                out = Identity(dim(node.n), span=node.span)
            elif isinstance(node, Ones):
                out = Ones(tuple(dim(d) for d in node.shape_), span=node.span)
            else:
                kids = node.children()
                out = node.rebuild(rebuild(k) for k in kids) if kids else node
            memo[id(node)] = out
            return out

        return rebuild(e)


def _plain_arithmetic(e: Expr) -> bool:
    """+ − · / of names and numbers only (b + 1, bc, b/2), not a matrix product (zᵀBx)."""
    if isinstance(e, (Symbol, Const)):
        return True
    return isinstance(e, (Add, Mul, Div)) and all(_plain_arithmetic(k) for k in e.children())


def _join(nodes):
    spans = [n.span for n in nodes if n.span]
    return (min(s[0] for s in spans), max(s[1] for s in spans)) if spans else None


_ENTRYWISE = (Add, Func, Hadamard, ElemDiv, Power, Mul, Sum)
_REVISED = {"vector": (None, 1), "row": (1, None)}


def _lone_symbol(e: Expr) -> tuple[Symbol | None, bool]:
    """The symbol of a term that is a symbol times numbers (μ, −μ, 2μ, μᵀ), else None;
    and whether it is transposed."""
    if type(e) is Mul:
        rest = [f for f in e.factors if not isinstance(f, Const)]
        e = rest[0] if len(rest) == 1 else None
    flipped = isinstance(e, Transpose)
    e = e.arg if flipped else e
    return (e, flipped) if isinstance(e, Symbol) else (None, False)


def _default_shape(name: str) -> tuple:
    letter = name[0]
    if letter in GREEK_NAMES or "\u0370" <= letter <= "\u03ff":
        return (None, None) if letter.isupper() else ()
    return (None, 1) if letter.islower() else (None, None)


def infer(surface: Expr, decls: dict[str, Decl] | None = None, source: str | None = None,
          extra: tuple[str, ...] = (), notes: list[str] | None = None,
          columns: bool = False) -> tuple[Expr, dict[str, Symbol]]:
    """Give every symbol a shape (unifying dims); return the typed tree and its symbols.

    Inference comes before defaults: a name that is a scalar only by its letter (μ in
    x − μ) is revised to the shape the expression needs, and the pass runs again.  Every
    guess that decides the meaning is appended to ``notes``.

    ``extra`` names symbols to type even if the expression does not contain them (the
    variable of a derivative that does not occur).  ``columns``: a vector added to a
    matrix is added to every column (a program's bias, WX + b = WX + b𝟏ᵀ).
    """
    def start(*args) -> _Inference:
        one = _Inference(*args)
        one.columns, one.quiet = columns, notes is None
        return one

    revised: dict[str, str] = {}
    inference = start(decls or {}, source)
    node, _ = inference.run(surface)
    said: list[str] = []
    while inference.wanted:
        revised.update({name: kind for name, (kind, _) in inference.wanted.items()})
        said += [note for _, note in inference.wanted.values()]
        retry = start(decls or {}, source, dict(revised))
        try:
            node, _ = retry.run(surface)
        except ShapeError:   # the revision does not fit elsewhere: keep the broadcast
            inference = start(decls or {}, source, {})
            inference.guessed_scalar = lambda name: False
            node, _ = inference.run(surface)
            said = []
            break
        inference = retry
    if notes is not None:
        notes.extend(said + inference.notes)
    extras = [inference.visit(Symbol(name))[0] for name in extra]
    typed = inference.finish(Add((node, *extras)) if extras else node)
    if extras:
        typed, extras = typed.terms[0], typed.terms[1:]
    symbols = {s.name: s for s in (*symbols_of(typed).values(), *extras)}
    return typed, symbols


# ----- shape rules of typed nodes ----------------------------------------------------------

def _mismatch(node: Expr, message: str):
    raise ShapeError(f"internal shape error in {type(node).__name__}: {message}")


def _equal(a, b) -> bool:
    return a == b


@singledispatch
def shape_of(e: Expr) -> tuple:
    """The shape of a typed node, from its children's shapes."""
    raise NoRuleError(f"shape: no rule for {type(e).__name__}")


@shape_of.register
def _(e: Symbol):
    if e.shape_ is None:
        raise ShapeError(f"symbol {e.name} has no shape yet (call infer first)")
    return e.shape_


@shape_of.register(Const)
@shape_of.register(DimSize)
def _(e):
    return ()


@shape_of.register
def _(e: Identity):
    return (e.n, e.n)


@shape_of.register(Zero)
@shape_of.register(Ones)
def _(e):
    return e.shape_


@shape_of.register
def _(e: Differential):
    return e.of.shape


@shape_of.register
def _(e: Mul):
    return chain_shape([f.shape for f in e.factors], _equal,
                       lambda i, acc, s: _mismatch(e, f"{show_shape(acc)} by {show_shape(s)}"))


def _broadcast(e, parts):
    shapes = {p.shape for p in parts} - {()}
    if len(shapes) > 1:
        _mismatch(e, " vs ".join(show_shape(s) for s in shapes))
    return shapes.pop() if shapes else ()


@shape_of.register
def _(e: Add):
    return _broadcast(e, e.terms)


@shape_of.register
def _(e: Hadamard):
    return _broadcast(e, e.factors)


@shape_of.register
def _(e: ElemDiv):
    return _broadcast(e, (e.num, e.den))


@shape_of.register(Power)
@shape_of.register(Inverse)
@shape_of.register(Func)
@shape_of.register(Softmax)
@shape_of.register(SoftmaxRows)
@shape_of.register(ElemPower)
def _(e):
    return e.children()[0].shape


@shape_of.register
def _(e: LogSumExpRows):
    return (e.arg.shape[0], 1)


@shape_of.register
def _(e: Transpose):
    s = e.arg.shape
    return () if s == () else (s[1], s[0])


@shape_of.register(Trace)
@shape_of.register(Det)
@shape_of.register(LogDet)
@shape_of.register(Sum)
@shape_of.register(Norm)
@shape_of.register(LogSumExp)
def _(e):
    return ()


@shape_of.register
def _(e: DiagMat):
    n = e.arg.shape[0]
    return (n, n)


@shape_of.register
def _(e: DiagVec):
    return (e.arg.shape[0], 1)


@shape_of.register
def _(e: Kron):
    (a, b), (c, d) = (s if s != () else (1, 1) for s in (e.left.shape, e.right.shape))
    return (dim_product(a, c), dim_product(b, d))


@shape_of.register
def _(e: Commutation):
    n = dim_product(e.m, e.n)
    return (n, n)


@shape_of.register
def _(e: Vec):
    s = e.arg.shape
    return (dim_product(*s), 1) if s != () else ()


STAGES["shape"] = shape_of
