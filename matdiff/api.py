"""The public API: parse, diff, verify — the whole pipeline, readable in one place."""
from __future__ import annotations

from .calculus.diff import differential, gradient
from .calculus.simplify import simplify, transpose
from .core.errors import DeclarationError, MatdiffError, NoRuleError
from .core.names import canonical_name, is_valid_name
from .core.nodes import Expr, Symbol, deep_recursion, symbols_of
from .core.shapes import declarations, infer, numpy_shape
from .language.parse import parse_surface
from .language.render import shape_text, to_latex, to_pretty, to_text

LAYOUTS = ("numerator", "denominator")
CONVENTIONS = ("unconstrained", "symmetric")


class Derivative:
    """The derivative of an expression F with respect to one symbol X, of any rank.

    * ``kind``: 'gradient' (scalar F), 'by scalar' (scalar X), 'jacobian' (vector by
      vector), or 'tensor' (rank 3 or 4: vector or matrix by matrix, matrix by vector).
    * ``result``: the matrix form in the chosen layout, or None for a tensor.
    * ``kron``: the vec/Kronecker form M with d vec(F) = M d vec(X) (numerator layout;
      its transpose in denominator layout), where one exists.
    * ``differential``: dF, linear in dX — always there; ``index()``: index notation.

    Layouts: denominator puts ∂f/∂x in x's shape (a column for a vector x) and the
    Jacobian of f ∈ ℝᵐ by x ∈ ℝⁿ as n×m; numerator (MML) makes ∂f/∂x a row, keeps a
    matrix X's shape for a scalar f (MML 5.106), and the Jacobian m×n.  Default: a
    gradient in denominator layout, a Jacobian in numerator layout, as textbooks print.
    """

    def __init__(self, expr: Expr, wrt: Symbol, differential: Expr,
                 symbols: dict[str, Symbol], source: str | None = None,
                 layout: str | None = None, convention: str = "unconstrained",
                 result: Expr | None = None):
        self.expr = expr
        self.wrt = wrt
        self._differential = differential
        self.symbols = symbols
        self.source = source
        self.kind = _kind(expr.shape, wrt.shape)
        self.layout = layout or ("denominator" if self.kind in ("gradient", "by scalar")
                                 else "numerator")
        self.convention = convention
        self.result, self.kron = result, None
        if result is None:
            self._forms()

    def _forms(self):
        from .calculus.jacobian import by_scalar, coefficient, vec_jacobian
        df, x, flip = self._differential, self.wrt, self.layout == "denominator"
        if self.kind == "gradient":
            g = simplify(gradient(df, x))
            if self.convention == "symmetric" and x.symmetric and x.shape[0] != 1:
                g = simplify(symmetric_gradient(g))
            self.result = g if flip or x.shape == () or x.shape[1] != 1 else \
                simplify(transpose(g))
        elif self.kind == "by scalar":
            self.result = by_scalar(df, x)
        elif self.kind == "jacobian":
            J = coefficient(simplify(df), x)
            if J is not None:
                self.result = simplify(transpose(J) if flip else J)
        if self.kind in ("jacobian", "tensor") or (self.kind == "gradient" and
                                                   x.shape[1:] != (1,) and x.shape != ()):
            if self.kind != "gradient":
                M = vec_jacobian(simplify(df), x)
                if M is not None:
                    self.kron = simplify(transpose(M) if flip else M)

    # ----- printing ---------------------------------------------------------------------

    def main_form(self) -> Expr:
        """The form printed by default: matrix, else vec/Kronecker, else the differential."""
        return self.result if self.result is not None else \
            self.kron if self.kron is not None else self.differential

    def __str__(self) -> str:
        return to_text(self.main_form())

    def text(self, shared: bool | None = None) -> str:
        """Plain text in the matdiff language (``parse`` reads a matrix form back).

        ``shared``: name repeated subexpressions (``where t_1 = …``); by default only when
        writing them out would be much longer (deeply nested compositions)."""
        return to_text(self.main_form(), shared)

    def pretty(self, shared: bool | None = None) -> str:
        """Unicode for terminals, e.g. −2AᵀW(x − As)."""
        return to_pretty(self.main_form(), shared)

    def latex(self, shared: bool | None = None) -> str:
        """LaTeX (amsmath)."""
        return to_latex(self.main_form(), shared)

    def index(self, latex: bool = False) -> str:
        """Index notation, e.g. ∂(Wx)ᵢ/∂Wⱼₖ = δᵢⱼ xₖ — available for every rank."""
        from .calculus.index import index_notation
        return index_notation(self.expr, self.wrt, self.differential, latex)

    def form_name(self) -> str:
        if self.result is not None:
            return {"gradient": "gradient", "by scalar": "derivative",
                    "jacobian": "Jacobian"}[self.kind]
        return "vec/Kronecker form" if self.kron is not None else "differential"

    def convention_text(self) -> str:
        """One line stating the layout (and vec convention) of the printed form."""
        x, f = to_pretty(self.wrt), to_pretty(self.expr)
        if self.kind == "gradient":
            row = self.layout == "numerator" and self.wrt.shape[1:] == (1,)
            text = f"{self.layout} layout: ∂f/∂{x} " + \
                (f"is a row, shaped like {x}ᵀ" if row else f"has the shape of {x}")
        elif self.kind == "by scalar":
            text = f"derivative by the scalar {x}: shaped like {f}"
        elif self.kind == "jacobian" and self.result is not None:
            text = f"{self.layout} layout: the Jacobian is " + \
                ("m×n, ∂fᵢ/∂xⱼ in row i" if self.layout == "numerator" else
                 "n×m, ∂fᵢ/∂xⱼ in column i")
        else:
            text = (f"{self.layout} layout, column-major vec: d vec({f}) = M d vec({x})"
                    if self.layout == "numerator" else
                    f"{self.layout} layout, column-major vec: d vec({f}) = Mᵀ d vec({x})")
        if self.wrt.symmetric and self.kind == "gradient":
            text += f"; {self.wrt.name} symmetric, {self.convention} gradient"
        return text

    def to_code(self, backend: str = "numpy") -> str:
        """The source of a self-contained module computing f and this derivative (for a
        Hessian also the gradient), with shape checks, named temporaries and
        check_gradient; see :func:`compile` for a callable."""
        return _to_code(self, backend)

    def _repr_latex_(self) -> str:
        return f"$\\frac{{\\partial}}{{\\partial {to_latex(self.wrt)}}} = {self.latex()}$"

    def __repr__(self) -> str:
        return f"<Derivative ∂/∂{to_pretty(self.wrt)} of {to_pretty(self.expr)} = {self.pretty()}>"

    @property
    def differential(self) -> Expr:
        """dF, linear in dX, simplified (computed on first use)."""
        if not hasattr(self, "_differential_simplified"):
            self._differential_simplified = simplify(self._differential)
        return self._differential_simplified

    @property
    def shape(self) -> tuple:
        """The symbolic numpy shape of :meth:`evaluate`'s value."""
        if self.kind in ("gradient",):
            return numpy_shape(self.wrt.shape)
        if self.kind == "by scalar":
            return numpy_shape(self.expr.shape)
        full = numpy_shape(self.expr.shape) + numpy_shape(self.wrt.shape)
        return full[::-1] if self.kind == "jacobian" and self.layout == "denominator" else full

    @property
    def rank(self) -> int:
        return len(numpy_shape(self.expr.shape)) + len(numpy_shape(self.wrt.shape))

    # ----- numbers ----------------------------------------------------------------------

    def evaluate(self, values: dict):
        """The derivative's value (numpy): a gradient shaped like X, a derivative by a
        scalar shaped like F, a Jacobian as printed (m×n numerator, n×m denominator),
        a tensor in the order F.shape + X.shape (as jax.jacobian)."""
        from .check.evaluate import to_user
        value = self._tensor(values)
        if self.kind == "jacobian" and self.layout == "denominator":
            value = value.T
        return to_user(value, ()) if value.ndim == 0 else value

    def _tensor(self, values, sizes=None):
        """The value in the order F.shape + X.shape (numpy shapes)."""
        import numpy as np

        from .check.evaluate import directional, evaluate
        if self.kind in ("gradient", "by scalar") and self.result is not None:
            v = np.asarray(evaluate(self.result, values, sizes, self.symbols), dtype=float)
            return v.reshape(self._numpy(sizes, values))
        full = directional(self._differential, self.wrt, values, sizes, self.symbols)
        if self.kind == "gradient" and self.convention == "symmetric" and self.wrt.symmetric:
            from .check.verifier import _parameter_axes
            full = _parameter_axes(full, 0)
        return full.reshape(self._numpy(sizes, values))

    def _numpy(self, sizes, values):
        from .check.evaluate import _dim, bind
        _, bound = bind(self.symbols, values, ())
        bound.update({k: v for k, v in (sizes or {}).items() if k not in bound})
        shape = numpy_shape(self.wrt.shape) if self.kind == "gradient" else \
            numpy_shape(self.expr.shape) + numpy_shape(self.wrt.shape)
        return tuple(_dim(d, bound) for d in shape)

    def verify(self, method: str = "sympy", seed: int = 0, sizes: dict | None = None):
        """Check the derivative numerically, entry by entry; returns a Check."""
        return oracle(method)(self.expr, self.wrt, seed=seed, sizes=sizes,
                              claimed=lambda values, sz: self._tensor(values, sz),
                              parameters=self.convention == "symmetric")

    def to_dict(self) -> dict:
        return {"input": self.source if self.source is not None else to_text(self.expr),
                "variable": self.wrt.name, "kind": self.kind, "layout": self.layout,
                "convention": self.convention_text(), "form": self.form_name(),
                "result": self.text(), "unicode": self.pretty(), "latex": self.latex(),
                "shape": list(self.shape), "differential": to_pretty(self.differential),
                "index": self.index(), "variable_shape": shape_text(self.wrt.shape)}


class Hessian(Derivative):
    """∂²f/∂x∂y: the derivative of the gradient ∇ₓf with respect to y (default x)."""

    def __init__(self, f: Expr, grad: "Derivative", second: Symbol, layout=None):
        g = grad.result
        super().__init__(g, second, differential(g, second), grad.symbols, grad.source,
                         layout)
        self.f, self.first = f, grad.wrt

    def verify(self, method: str = "sympy", seed: int = 0, sizes: dict | None = None):
        from .check.verifier import check_with_differences, check_with_sympy
        if method == "central":   # differences of the verified gradient expression
            return check_with_differences(self.expr, self.wrt, seed=seed, sizes=sizes,
                                          claimed=lambda v, sz: self._tensor(v, sz))
        return check_with_sympy(self.f, self.first, seed=seed, sizes=sizes, second=self.wrt,
                                claimed=lambda v, sz: self._tensor(v, sz))

    def __repr__(self) -> str:
        return f"<Hessian of {to_pretty(self.f)} = {self.pretty()}>"

    def convention_text(self) -> str:
        x, y = to_pretty(self.first), to_pretty(self.wrt)
        if self.result is not None and self.kind == "jacobian":
            order = "Hᵢⱼ = ∂²f/∂xᵢ∂xⱼ" if x == y else f"Hᵢⱼ = ∂²f/∂{x}ᵢ∂{y}ⱼ"
            return f"Hessian, {order} ({self.layout} layout)"
        if self.result is not None:
            return f"second derivative ∂²f/∂{x}∂{y}, shaped like " + \
                (x if self.kind == "by scalar" else y)
        return (f"Hessian as d vec(∇f) = M d vec({y}), column-major vec ({self.layout} layout; "
                f"∇f = {to_pretty(self.expr)})")


def _kind(f_shape, x_shape) -> str:
    if f_shape == ():
        return "gradient"
    if x_shape == ():
        return "by scalar"
    if f_shape[1] == 1 and x_shape[1] == 1:
        return "jacobian"
    return "tensor"


def symmetric_gradient(g: Expr) -> Expr:
    """G + Gᵀ − diag(G): each symmetric pair as one parameter (Matrix Cookbook §2.8.2)."""
    from .calculus.simplify import add, hadamard, neg
    from .core.nodes import Identity
    return add(g, transpose(g), neg(hadamard(g, Identity(g.shape[0]))))


def _typed(expr, shapes, symmetric, extra=()) -> tuple[Expr, dict[str, Symbol], str | None]:
    if isinstance(expr, Expr):
        own = symbols_of(expr)
        missing = [n for n in extra if n not in own]
        if missing:
            _, more = infer(Symbol(missing[0]), declarations(shapes, symmetric), None,
                            tuple(missing))
            own = {**own, **{n: more[n] for n in missing}}
        return expr, own, None
    if not isinstance(expr, str):
        raise MatdiffError(f"expected an expression (str or Expr), got {type(expr).__name__}")
    decls = declarations(shapes, symmetric)
    with deep_recursion():
        surface = parse_surface(expr, frozenset(decls))
        typed, symbols = infer(surface, decls, expr, extra)
    return typed, symbols, expr


def parse(text, shapes=None, symmetric=()) -> Expr:
    """Read an expression and infer every shape: a typed tree, exactly as written."""
    return _typed(text, shapes, symmetric)[0]


def _variable(wrt) -> str:
    if isinstance(wrt, Symbol):
        return wrt.name
    if not isinstance(wrt, str) or not is_valid_name(wrt.strip()):
        raise DeclarationError(f"the variable must be a symbol name such as x, W_1 or alpha, "
                               f"got {wrt!r}")
    return canonical_name(wrt)


def _options(layout, convention):
    if layout is not None and layout not in LAYOUTS:
        raise MatdiffError(f"unknown layout {layout!r}: use 'numerator' or 'denominator'")
    if convention not in CONVENTIONS:
        raise MatdiffError(f"unknown convention {convention!r}: use 'unconstrained' or "
                           f"'symmetric'")


def diff(expr, wrt, *, shapes=None, symmetric=(), layout=None,
         convention="unconstrained") -> Derivative:
    """∂expr/∂wrt for an expression of any shape.

    A scalar expression gives the gradient (denominator layout by default: shaped like
    wrt); a vector by a vector the Jacobian (numerator layout by default: m×n); higher
    ranks a tensor with its vec/Kronecker form.  ``convention='symmetric'`` treats each
    pair of entries of a symmetric variable as one parameter (G + Gᵀ − diag(G)).
    """
    _options(layout, convention)
    name = _variable(wrt)
    typed, symbols, source = _typed(expr, shapes, symmetric, (name,))
    x = symbols[name]
    with deep_recursion():
        defined(typed, source)
        return Derivative(typed, x, differential(typed, x), symbols, source, layout,
                          convention)


def defined(e: Expr, source: str | None = None) -> None:
    """Refuse an expression that is undefined as written (1/(α − α)): its derivative
    would otherwise cancel to a silent, wrong 0."""
    from .calculus.simplify import rebuild
    from .core.errors import DomainError
    try:
        rebuild(e)
    except DomainError as err:
        raise DomainError(err.message, source, e.span) from None


def hessian(expr, wrt, wrt2=None, *, shapes=None, symmetric=(), layout=None) -> Hessian:
    """∂²f/∂x∂y for a scalar f: the derivative of the gradient ∇ₓf by y (default y = x).

    For vectors it is a matrix (H_ij = ∂²f/∂xᵢ∂yⱼ); for a matrix variable a rank-4 tensor
    with its Kronecker form (∇² tr(XᵀAX) = I ⊗ (A + Aᵀ)).
    """
    _options(layout, "unconstrained")
    first = diff(expr, wrt, shapes=shapes, symmetric=symmetric)
    if first.kind != "gradient":
        raise NoRuleError(f"a Hessian needs a scalar-valued expression; "
                          f"{to_pretty(first.expr)} is {shape_text(first.expr.shape)}",
                          first.source, first.expr.span)
    second = first.symbols[_variable(wrt2)] if wrt2 is not None and \
        _variable(wrt2) in first.symbols else None
    if wrt2 is not None and second is None:
        second = diff(expr, wrt2, shapes=shapes, symmetric=symmetric).wrt
    return Hessian(first.expr, first, second or first.wrt, layout)


def oracle(method: str):
    """The check for a method name: 'sympy' (elementwise) or 'central' (differences)."""
    from .check.verifier import check_with_differences, check_with_sympy
    if method not in ("sympy", "central"):
        raise MatdiffError(f"unknown check method {method!r}: use 'sympy' or 'central'")
    return check_with_sympy if method == "sympy" else check_with_differences


def verify(expr, wrt=None, gradient=None, *, shapes=None, symmetric=(), method="sympy",
           seed=0, sizes=None):
    """Check a gradient numerically against elementwise sympy derivatives (or central
    differences with ``method='central'``).

    ``verify(d)`` checks a :class:`Derivative`; ``verify(f, "X", "a bᵀ")`` checks a
    claimed gradient given as text or Expr.  Returns a Check (truthy when it passed).
    """
    if isinstance(expr, Derivative):
        return expr.verify(method=method, seed=seed, sizes=sizes)
    if wrt is None:
        raise MatdiffError("verify needs the variable: verify(expr, wrt, gradient)")
    if gradient is None:
        return diff(expr, wrt, shapes=shapes, symmetric=symmetric).verify(method, seed, sizes)
    name = _variable(wrt)
    typed, symbols, _ = _typed(expr, shapes, symmetric, (name,))
    claimed = parse_like(gradient, symbols)
    return oracle(method)(typed, symbols[name], claimed, seed=seed, sizes=sizes)


def parse_like(text, symbols: dict[str, Symbol]) -> Expr:
    """Parse text with the shapes (and symmetry) the given symbols already have."""
    if isinstance(text, Expr):
        return text
    return parse(text, shapes={n: s.shape for n, s in symbols.items()},
                 symmetric=[n for n, s in symbols.items() if s.symmetric])


# ----- generated code -------------------------------------------------------------------

def compile(expr, wrt, *, hessian=False, backend="numpy", shapes=None, symmetric=()):
    """Generated code for f and its derivatives, as a callable.

    ``fn(**values)`` returns ``(value, gradient)`` or, with ``hessian=True``,
    ``(value, gradient, hessian)``; with several variables (``wrt=["W", "b"]``) the
    gradients are a tuple in that order and the Hessian a tuple of rows of blocks
    ∂²f/∂xᵢ∂xⱼ.  Values follow :func:`evaluate`'s conventions (vectors 1-D).  The module is
    generated for the sizes of each new call signature (matrix-chain order from the
    actual sizes), written to a cache directory and imported; ``fn.source()`` shows it.
    ``backend='jax'`` returns a ``jax.jit``-compiled function (install ``matdiff[jax]``).
    A non-scalar expression gives its Jacobian (or derivative tensor) instead of a gradient.
    """
    from .codegen import BACKENDS, Compiled
    if backend not in BACKENDS:
        raise MatdiffError(f"unknown backend {backend!r}: use 'numpy' or 'jax'")
    return Compiled(_code_spec(expr, wrt, hessian, shapes, symmetric), backend)


def _code_spec(expr, wrt, want_hessian, shapes, symmetric):
    from .codegen import make_spec
    names = [wrt] if isinstance(wrt, (str, Symbol)) else list(wrt)
    if not names:
        raise MatdiffError("compile needs at least one variable")
    firsts = [diff(expr, w, shapes=shapes, symmetric=symmetric) for w in names]
    d = firsts[0]
    symbols = dict(symbols_of(d.expr))
    for f in firsts:
        symbols.setdefault(f.wrt.name, f.wrt)
    hessians = None
    if want_hessian:
        if d.kind != "gradient":
            raise NoRuleError(f"a Hessian needs a scalar-valued expression; "
                              f"{to_pretty(d.expr)} is {shape_text(d.expr.shape)}",
                              d.source, d.expr.span)
        hessians = [Hessian(d.expr, a, b.wrt) for a in firsts for b in firsts]
    return make_spec(d.expr, symbols, d.source, firsts, hessians)


def _to_code(self, backend: str = "numpy") -> str:
    from .codegen import make_spec, source
    symbols = dict(symbols_of(self.f if isinstance(self, Hessian) else self.expr))
    if isinstance(self, Hessian):
        first = Derivative(self.f, self.first, differential(self.f, self.first),
                           self.symbols, self.source)
        symbols.setdefault(self.first.name, self.first)
        symbols.setdefault(self.wrt.name, self.wrt)
        spec = make_spec(self.f, symbols, self.source, [first], [self])
    else:
        symbols.setdefault(self.wrt.name, self.wrt)
        spec = make_spec(self.expr, symbols, self.source, [self])
    return source(spec, backend)

