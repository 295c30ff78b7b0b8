"""The public API: parse, diff, verify — the whole pipeline, readable in one place."""
from __future__ import annotations

from .diff import differential, gradient
from .errors import DeclarationError, MatdiffError, NoRuleError
from .nodes import Expr, Symbol, symbols_of
from .parse import canonical_name, is_valid_name, parse_surface
from .render import shape_text, to_latex, to_pretty, to_text
from .shapes import declarations, infer
from .simplify import simplify

LAYOUT = "denominator"


class Derivative:
    """The derivative of an expression with respect to one symbol.

    ``result`` is the gradient in textbook form (denominator layout: shaped like the
    variable); ``differential`` is df, linear in dX, from which it was read.
    """

    def __init__(self, expr: Expr, wrt: Symbol, result: Expr, differential: Expr,
                 symbols: dict[str, Symbol], source: str | None = None):
        self.expr = expr
        self.wrt = wrt
        self.result = result
        self._differential = differential
        self.symbols = symbols
        self.source = source
        self.layout = LAYOUT

    def __str__(self) -> str:
        return to_text(self.result)

    @property
    def differential(self) -> Expr:
        """df, linear in dX, simplified (computed on first use)."""
        if not hasattr(self, "_differential_simplified"):
            self._differential_simplified = simplify(self._differential)
        return self._differential_simplified

    def text(self) -> str:
        """Plain text in the matdiff language (``parse`` reads it back)."""
        return to_text(self.result)

    def pretty(self) -> str:
        """Unicode for terminals, e.g. −2AᵀW(x − As)."""
        return to_pretty(self.result)

    def latex(self) -> str:
        """LaTeX (amsmath)."""
        return to_latex(self.result)

    def _repr_latex_(self) -> str:
        return f"$\\frac{{\\partial}}{{\\partial {to_latex(self.wrt)}}} = {self.latex()}$"

    def __repr__(self) -> str:
        return f"<Derivative ∂/∂{to_pretty(self.wrt)} of {to_pretty(self.expr)} = {self.pretty()}>"

    @property
    def shape(self) -> tuple:
        """The symbolic numpy shape of the result: () scalar, ('n',) vector, ('m', 'n')."""
        return numpy_shape(self.result.shape)

    def evaluate(self, values: dict):
        """The result's value (numpy) at the given symbol values."""
        from .evaluate import evaluate, to_user
        return to_user(evaluate(self.result, values, symbols=self.symbols), self.wrt.shape)

    def verify(self, method: str = "sympy", seed: int = 0, sizes: dict | None = None):
        """Check the result numerically; returns a :class:`matdiff.verifier.Check`."""
        return check(self.expr, self.wrt, self.result, method=method, seed=seed, sizes=sizes)

    def to_dict(self) -> dict:
        return {"input": self.source if self.source is not None else to_text(self.expr),
                "variable": self.wrt.name, "layout": self.layout,
                "result": self.text(), "unicode": self.pretty(), "latex": self.latex(),
                "shape": list(self.shape), "differential": to_pretty(self.differential),
                "variable_shape": shape_text(self.wrt.shape)}


def numpy_shape(shape) -> tuple:
    if shape == ():
        return ()
    return (shape[0],) if shape[1] == 1 else tuple(shape)


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
    try:
        surface = parse_surface(expr, frozenset(decls))
        typed, symbols = infer(surface, decls, expr, extra)
    except RecursionError:
        raise MatdiffError("the expression is nested too deeply to read") from None
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


def diff(expr, wrt, *, shapes=None, symmetric=()) -> Derivative:
    """∂expr/∂wrt for a scalar-valued expression: the gradient, shaped like wrt."""
    name = _variable(wrt)
    typed, symbols, source = _typed(expr, shapes, symmetric, (name,))
    x = symbols[name]
    if typed.shape != ():
        raise NoRuleError(f"{to_pretty(typed)} is {shape_text(typed.shape)}, not a scalar: "
                          f"gradients need a scalar-valued expression", source,
                          typed.span)
    try:
        df = differential(typed, x)
        grad = simplify(gradient(df, x))
    except RecursionError:
        raise MatdiffError("the expression is nested too deeply to differentiate") from None
    return Derivative(typed, x, grad, df, symbols, source)


def check(expr: Expr, wrt: Symbol, result: Expr, *, method: str = "sympy", seed: int = 0,
          sizes: dict | None = None):
    from .verifier import check_with_differences, check_with_sympy
    if method not in ("sympy", "central"):
        raise MatdiffError(f"unknown check method {method!r}: use 'sympy' or 'central'")
    runner = check_with_sympy if method == "sympy" else check_with_differences
    return runner(expr, wrt, result, seed=seed, sizes=sizes)


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
    return check(typed, symbols[name], claimed, method=method, seed=seed, sizes=sizes)


def parse_like(text, symbols: dict[str, Symbol]) -> Expr:
    """Parse text with the shapes (and symmetry) the given symbols already have."""
    if isinstance(text, Expr):
        return text
    return parse(text, shapes={n: s.shape for n, s in symbols.items()},
                 symmetric=[n for n, s in symbols.items() if s.symmetric])
