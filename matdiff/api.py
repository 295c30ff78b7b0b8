"""The public API: parse, diff, verify — the whole pipeline, readable in one place."""
from __future__ import annotations

from .calculus.diff import differential, gradient
from .calculus.simplify import simplify, transpose
from .core.errors import DeclarationError, MatdiffError, NoRuleError, ShapeError
from .core.names import canonical_name, is_valid_name
from .core.nodes import STAGES, Expr, Symbol, deep_recursion, symbols_of
from .core.shapes import declarations, infer, numpy_shape
from .language.dialects import dialect_declarations
from .language.parse import normalize, parse_surface, product_calls
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
                 result: Expr | None = None, notes: list[str] | None = None):
        self.expr = expr
        self.notes: list[str] = list(notes or [])   # every guess that decided the meaning
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

    program = None   # the Program a derivative of a program came from

    def main_form(self) -> Expr:
        """The form printed by default: matrix, else vec/Kronecker, else the differential;
        for a program, written with its defined names where they appear."""
        form = self.result if self.result is not None else \
            self.kron if self.kron is not None else self.differential
        return self.program.fold(form) if self.program is not None else form

    def __str__(self) -> str:
        return to_text(self.main_form(), names=self.symbols, known_shape=True)

    def text(self, shared: bool | None = None) -> str:
        """Plain text in the matdiff language (``parse`` reads a matrix form back).

        ``shared``: name repeated subexpressions (``where t_1 = …``); by default only when
        writing them out would be much longer (deeply nested compositions)."""
        return to_text(self.main_form(), shared, self.symbols, True)

    def pretty(self, shared: bool | None = None) -> str:
        """Unicode for terminals, e.g. −2AᵀW(x − As)."""
        return to_pretty(self.main_form(), shared, self.symbols, True)

    def latex(self, shared: bool | None = None, bold: bool = False) -> str:
        """LaTeX (amsmath); ``bold`` sets vectors and matrices in bold (MML)."""
        return to_latex(self.main_form(), shared, self.symbols, True, bold)

    def index(self, latex: bool = False, letters: str = "ijkl") -> str:
        """Index notation, e.g. ∂(Wx)ᵢ/∂Wⱼₖ = δᵢⱼ xₖ — available for every rank; the
        ``letters`` name the indices (F's first, then X's)."""
        from .calculus.index import index_notation
        return index_notation(self.expr, self.wrt, self.differential, latex, letters)

    def form_name(self) -> str:
        if self.result is not None:
            if isinstance(self, Hessian):
                return "Hessian"
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

    def steps(self) -> list:
        """The derivation as a list of :class:`matdiff.calculus.steps.Step`: d(F), the
        engine's rules one at a time, trace cyclicity, and the result read off."""
        from .calculus.steps import derivation
        with deep_recursion():
            return derivation(self)

    def steps_text(self, latex: bool = False, bold: bool = False) -> str:
        """The steps as Unicode lines, or (``latex=True``) an ``align*`` block."""
        from .calculus.steps import latex_block, text_lines
        steps = self.steps()
        return latex_block(steps, bold) if latex else "\n".join(text_lines(steps))

    def equation(self, bold: bool = False) -> str:
        """∂f/∂X = … in LaTeX, with f (a vec/Kronecker form as ∂vec F/∂vec(X)ᵀ)."""
        return f"{self.lhs_latex(bold)} = {self.latex(bold=bold)}"

    def lhs_latex(self, bold: bool = False) -> str:
        f, x = _grouped(to_latex(self.expr, bold=bold)), to_latex(self.wrt, bold=bold)
        if self.result is None and self.kron is not None:
            return (f"\\frac{{\\partial \\operatorname{{vec}} {f}}}"
                    f"{{\\partial \\operatorname{{vec}}({x})^{{\\top}}}}")
        if self.result is None:
            return f"\\mathrm{{d}}{f}"
        return f"\\frac{{\\partial {f}}}{{\\partial {x}}}"

    def to_code(self, backend: str = "numpy") -> str:
        """The source of a self-contained module computing f and this derivative (for a
        Hessian also the gradient), with shape checks, named temporaries and
        check_gradient; see :func:`compile` for a callable."""
        return _to_code(self, backend)

    def _repr_latex_(self) -> str:
        if self.result is None and self.kron is None:
            return f"${self.lhs_latex()} = {to_latex(self.differential)}$"
        return f"${self.equation()}$"

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

    def read_back(self) -> Expr | None:
        """The printed form (text and Unicode, as printed, `where` names included) parsed
        again with the problem's shapes — what the user reads, as an expression; None when
        the printed form is the differential.  Raises VerificationError when the two
        printed forms do not read back to the same expression."""
        from .core.errors import VerificationError
        if self.result is None and self.kron is None:
            return None
        if getattr(self, "_read_back", None) is None:
            form = self.main_form()
            forms = []
            symbols, defined = dict(self.symbols), {}
            if self.program is not None:   # printed with the program's defined names
                keep = tuple(n for n in self.program.names if n in symbols)
                defined = {n: self.program.expr(n, keep) for n in self.program.names
                           if n not in symbols}
                symbols.update({n: Symbol(n, e.shape) for n, e in defined.items()})
            for printed in (self.text(), self.pretty()):
                try:
                    again = parse_like(printed, symbols, form.shape)
                    if defined:
                        from .language.program import substitute
                        again = substitute(again, defined)
                except MatdiffError as e:
                    raise VerificationError(f"the printed {self.form_name()} does not read "
                                            f"back: {printed!r}: {e.message}") from None
                if again.shape != form.shape:
                    raise VerificationError(
                        f"the printed {self.form_name()} {printed!r} reads back "
                        f"{shape_text(again.shape)}, not {shape_text(form.shape)}")
                forms.append(again)
            self._read_back = forms
        return self._read_back[0]

    def _printed_tensor(self, values, sizes=None):
        """The value of what is printed (read back from its text and its Unicode), in the
        order F.shape + X.shape; raises VerificationError if the two disagree."""
        import numpy as np

        from .check.evaluate import evaluate
        from .core.errors import VerificationError
        if self.read_back() is None:
            return self._tensor(values, sizes)
        shape = self._numpy(sizes, values)
        out = []
        for form in self._read_back:
            v = np.asarray(evaluate(form, values, sizes, self.symbols), dtype=float)
            if self.result is None:   # vec/Kronecker: d vec F = M d vec X (column-major)
                v = v.T if self.layout == "denominator" else v
                v = v.reshape(shape, order="F") if v.size == int(np.prod(shape)) else v
            elif self.kind == "jacobian" and self.layout == "denominator":
                v = v.T
            if v.size != int(np.prod(shape, dtype=int)):
                raise VerificationError(f"the printed {self.form_name()} has "
                                        f"{v.size} entries where {int(np.prod(shape))} belong")
            out.append(v.reshape(shape))
        if not np.allclose(out[0], out[1], rtol=1e-9, atol=1e-12, equal_nan=True):
            raise VerificationError("the text and the Unicode forms of the result differ "
                                    "in value")
        return out[0]

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
        """Check what is printed, numerically, entry by entry; returns a Check.

        The printed result (its text and its Unicode, parsed back) is evaluated at a random
        point and compared with elementwise sympy derivatives of the expression
        (``method='sympy'``) or central differences (``method='central'``, fast)."""
        check = oracle(method)(self.expr, self.wrt, seed=seed, sizes=sizes,
                               claimed=lambda values, sz: self._printed_tensor(values, sz),
                               parameters=self.convention == "symmetric")
        return self._checked(check)

    def _checked(self, check):
        check.subject = f"the printed {self.form_name()}, read back from text and Unicode" \
            if self.result is not None or self.kron is not None else "the differential"
        return check

    def to_dict(self) -> dict:
        return {"input": self.source if self.source is not None else to_text(self.expr),
                "variable": self.wrt.name, "kind": self.kind, "layout": self.layout,
                "convention": self.convention_text(), "form": self.form_name(),
                "result": self.text(), "unicode": self.pretty(), "latex": self.latex(),
                "shape": list(self.shape), "differential": to_pretty(self.differential),
                "index": self.index(), "variable_shape": shape_text(self.wrt.shape),
                "notes": list(self.notes)}


class Hessian(Derivative):
    """∂²f/∂x∂y: the derivative of the gradient ∇ₓf with respect to y (default x)."""

    def __init__(self, f: Expr, grad: "Derivative", second: Symbol, layout=None):
        g = grad.result
        super().__init__(g, second, differential(g, second), grad.symbols, grad.source,
                         layout, notes=grad.notes)
        self.f, self.first, self.gradient = f, grad.wrt, grad

    def steps(self) -> list:
        """The gradient's steps, then those of its derivative (the Hessian's)."""
        return self.gradient.steps() + super().steps()

    def verify(self, method: str = "sympy", seed: int = 0, sizes: dict | None = None):
        from .check.verifier import check_with_differences, check_with_sympy
        if method == "central":   # differences of the verified gradient expression
            return self._checked(check_with_differences(
                self.expr, self.wrt, seed=seed, sizes=sizes,
                claimed=lambda v, sz: self._printed_tensor(v, sz)))
        return self._checked(check_with_sympy(
            self.f, self.first, seed=seed, sizes=sizes, second=self.wrt,
            claimed=lambda v, sz: self._printed_tensor(v, sz),
            fallback=lambda: self.verify("central", seed, sizes)))

    def lhs_latex(self, bold: bool = False) -> str:
        f = _grouped(to_latex(self.f, bold=bold))
        x, y = to_latex(self.first, bold=bold), to_latex(self.wrt, bold=bold)
        if self.result is None:
            return (f"\\frac{{\\partial \\operatorname{{vec}} \\nabla_{{{x}}} {f}}}"
                    f"{{\\partial \\operatorname{{vec}}({y})^{{\\top}}}}")
        if x == y and self.first.shape[1:] == (1,):
            return f"\\nabla^2_{{{x}}} {f}"
        if x == y:
            return f"\\frac{{\\partial^2 {f}}}{{\\partial {x}^2}}"
        ty = f"{y}^{{\\top}}" if self.wrt.shape[1:] == (1,) else y
        return f"\\frac{{\\partial^2 {f}}}{{\\partial {x} \\, \\partial {ty}}}"

    def first_symbol(self) -> Symbol:
        return self.gradient.wrt

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


class Stacked:
    """Derivatives by several variables at once (MML 5.45, 5.147).

    * ``kind`` 'gradient' (or 'jacobian', …): ``blocks`` is one Derivative per variable,
      the stacked gradient [∂f/∂x₁, ∂f/∂x₂, …];
    * ``kind`` 'hessian': ``blocks[i][j]`` is the Hessian block ∂²f/∂xᵢ∂xⱼ.

    Text prints the blocks as a list ([a, b] or [[a, b], [c, d]]); LaTeX as a bmatrix
    (a row for a gradient by scalars, as MML writes it; a column of vector blocks in
    denominator layout).
    """

    def __init__(self, kind: str, blocks: list, wrt: list[Symbol]):
        self.kind, self.blocks, self.wrt = kind, blocks, wrt
        flat = [b for row in blocks for b in row] if kind == "hessian" else list(blocks)
        self.notes = list(dict.fromkeys(n for b in flat for n in b.notes))
        self.program = None

    def _cells(self) -> list[list]:
        if self.kind == "hessian":
            return self.blocks
        if self._column():
            return [[b] for b in self.blocks]
        return [self.blocks]

    def _column(self) -> bool:
        first = self.blocks[0]
        return self.kind != "hessian" and first.kind == "gradient" and \
            first.layout == "denominator" and any(x.shape[1:] == (1,) for x in self.wrt)

    def _show(self, render) -> str:
        rows = ["[" + ", ".join(render(b.main_form()) for b in row) + "]"
                for row in self._cells()]
        if self.kind == "hessian":
            return "[" + ", ".join(rows) + "]"
        return rows[0] if len(rows) == 1 else "[" + ", ".join(r[1:-1] for r in rows) + "]"

    def __str__(self) -> str:
        return self.text()

    def text(self, shared: bool | None = None) -> str:
        """The blocks in the matdiff language, as a (nested) list: [a, b]."""
        return self._show(lambda e: to_text(e, shared))

    def pretty(self, shared: bool | None = None) -> str:
        return self._show(lambda e: to_pretty(e, shared))

    def latex(self, shared: bool | None = None, bold: bool = False) -> str:
        """A bmatrix of the blocks."""
        rows = [" & ".join(to_latex(b.main_form(), shared, b.symbols, True, bold) for b in row)
                for row in self._cells()]
        return "\\begin{bmatrix} " + " \\\\ ".join(rows) + " \\end{bmatrix}"

    def equation(self, bold: bool = False) -> str:
        """∂f/∂(x₁, x₂) = [...] or ∇²f = [...] in LaTeX."""
        xs = ", ".join(to_latex(x, bold=bold) for x in self.wrt)
        f = to_latex(self.f, bold=bold)
        lhs = (f"\\nabla^2_{{({xs})}} \\left({f}\\right)" if self.kind == "hessian" else
               f"\\frac{{\\partial}}{{\\partial ({xs})}} \\left({f}\\right)")
        return f"{lhs} = {self.latex(bold=bold)}"

    def _repr_latex_(self) -> str:
        return f"${self.equation()}$"

    @property
    def f(self) -> Expr:
        first = self.blocks[0][0] if self.kind == "hessian" else self.blocks[0]
        return first.f if isinstance(first, Hessian) else first.expr

    def convention_text(self) -> str:
        names = ", ".join(to_pretty(x) for x in self.wrt)
        if self.kind == "hessian":
            return f"block Hessian, block (i, j) = ∂²f/∂xᵢ∂xⱼ for ({names})"
        return f"stacked by ({names}); each block: {self.blocks[0].convention_text()}"

    def steps(self) -> list:
        """The derivation of every block, one after the other."""
        return [s for b in self._flat() for s in b.steps()]

    def steps_text(self, latex: bool = False, bold: bool = False) -> str:
        from .calculus.steps import latex_block, text_lines
        steps = self.steps()
        return latex_block(steps, bold) if latex else "\n".join(text_lines(steps))

    def _flat(self) -> list:
        return [b for row in self.blocks for b in row] if self.kind == "hessian" else \
            list(self.blocks)

    def evaluate(self, values: dict):
        """Scalar and vector variables: one numpy array (the stacked gradient, 1-D, or the
        block Hessian, a matrix); matrix variables: the blocks' values as a tuple."""
        import numpy as np
        if any(x.shape != () and x.shape[1] != 1 for x in self.wrt):
            if self.kind == "hessian":
                return tuple(tuple(b.evaluate(values) for b in row) for row in self.blocks)
            return tuple(b.evaluate(values) for b in self.blocks)
        if self.kind != "hessian":
            return np.concatenate([np.atleast_1d(b.evaluate(values)) for b in self.blocks])
        sizes = [np.size(row[0].gradient.evaluate(values)) for row in self.blocks]
        return np.block([[np.reshape(b.evaluate(values), (sizes[i], sizes[j]))
                          for j, b in enumerate(row)] for i, row in enumerate(self.blocks)])

    def verify(self, method: str = "sympy", seed: int = 0, sizes: dict | None = None):
        """Check every block; a BlockCheck (truthy when all passed)."""
        return BlockCheck([b.verify(method, seed, sizes) for b in self._flat()])

    def to_dict(self) -> dict:
        return {"variables": [x.name for x in self.wrt], "kind": self.kind,
                "result": self.text(), "unicode": self.pretty(), "latex": self.latex(),
                "convention": self.convention_text()}

    def __repr__(self) -> str:
        return f"<Stacked {self.kind} by {', '.join(x.name for x in self.wrt)} = {self.pretty()}>"


class BlockCheck:
    """The checks of every block of a :class:`Stacked` derivative."""

    def __init__(self, checks: list):
        self.checks = checks
        self.ok = all(c.ok for c in checks)

    def __bool__(self) -> bool:
        return self.ok

    def require(self) -> "BlockCheck":
        for c in self.checks:
            c.require()
        return self

    def summary(self) -> str:
        return "\n".join(f"block {i + 1}: {c.summary()}" for i, c in enumerate(self.checks))

    def to_dict(self) -> dict:
        return {"passed": self.ok, "blocks": [c.to_dict() for c in self.checks]}


def _several(wrt) -> list | None:
    """The variables of a several-variable derivative, or None for one variable."""
    if isinstance(wrt, str) and "," in wrt:
        wrt = [w for w in wrt.split(",")]
    if isinstance(wrt, (list, tuple)):
        if not wrt:
            raise DeclarationError("wrt: name at least one variable")
        names = [_variable(w.strip() if isinstance(w, str) else w) for w in wrt]
        if len(set(names)) != len(names):
            raise DeclarationError(f"wrt: a variable is named twice in {', '.join(names)}")
        return names
    return None


def _grouped(text: str) -> str:
    """f as it stands after ∂: a single letter bare, anything longer in parentheses."""
    return text if len(text) == 1 or (text.startswith("\\") and text[1:].isalpha()) else \
        f"\\left({text}\\right)"


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


def _typed(expr, shapes, symmetric, extra=(), syntax="matdiff") -> tuple[Expr, dict[str, Symbol],
                                                                      str | None]:
    """The typed tree, its symbols and the source text; the tree's ``notes`` list the
    guesses that decided the reading."""
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
    notes: list[str] = []
    with deep_recursion():
        surface = read_surface(expr, frozenset(decls), notes, syntax)
        decls = dialect_declarations(symbols_of(surface), decls, syntax)
        try:
            typed, symbols = infer(surface, decls, expr, extra, notes)
        except ShapeError as err:
            raise _function_hint(err, expr, frozenset(decls)) from None
    object.__setattr__(typed, "notes", tuple(dict.fromkeys(notes)))
    return typed, symbols, expr


def read_surface(text: str, declared: frozenset[str] = frozenset(), notes: list[str] | None = None,
                 syntax: str = "matdiff") -> Expr:
    """Plain text or LaTeX (chosen by :func:`looks_like_latex`) → a surface tree."""
    from .language.latex import looks_like_latex, parse_latex
    if isinstance(text, str) and syntax == "matdiff" and looks_like_latex(text):
        return parse_latex(text, declared, notes)
    return parse_surface(text, declared, notes, syntax)


def _function_hint(err: ShapeError, source: str, declared: frozenset[str]) -> ShapeError:
    """f(x) that cannot be a product: say how matdiff reads it and what to write."""
    for name, (a, b) in product_calls(normalize(source), declared):
        if err.span is not None and err.span[0] <= a < err.span[1]:
            return ShapeError(f"{err.message}; '{name}(…)' is read as the product "
                              f"{name}·(…) and matdiff has no user-defined functions: write "
                              f"the function itself, e.g. tanh(x), σ(Wx), log(x)",
                              err.source, err.span)
    return err


def parse(text, shapes=None, symmetric=(), syntax="matdiff") -> Expr:
    """Read an expression and infer every shape: a typed tree, exactly as written.

    ``parse(...).notes`` lists every guess that decided the reading (a default shape, a
    broadcast, a name before '(' read as a product, the scope of tr/log/det without
    brackets, an entrywise power inside sum).
    ``syntax``: 'matdiff' (default), 'matrixcalculus' or 'sympy' (see the README)."""
    return _typed(text, shapes, symmetric, syntax=syntax)[0]


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
         convention="unconstrained", syntax="matdiff", of=None, check=False,
         expand: bool = False) -> Derivative:
    """∂expr/∂wrt for an expression of any shape.

    A scalar expression gives the gradient (denominator layout by default: shaped like
    wrt); a vector by a vector the Jacobian (numerator layout by default: m×n); higher
    ranks a tensor with its vec/Kronecker form.  ``convention='symmetric'`` treats each
    pair of entries of a symmetric variable as one parameter (G + Gᵀ − diag(G)).

    A program (text with ``name = …`` statements) differentiates its last statement, or
    the one named by ``of``; the result prints in terms of the defined names.
    ``check=True`` verifies what is printed (central differences, see
    :meth:`Derivative.verify`) and raises VerificationError if it is wrong.
    ``wrt=["x1", "x2"]`` (or "x1,x2") stacks the derivatives by several variables;
    ``expand=True`` multiplies out a scalar polynomial result (MML 5.7: 2x₁x₂ + x₂³).
    """
    _options(layout, convention)
    if is_program(expr):
        return _diff_program(expr, wrt, of, shapes, symmetric, layout, convention, check)
    several = _several(wrt)
    if several is not None and len(several) > 1:
        typed, symbols, source = _typed(expr, shapes, symmetric, tuple(several), syntax)
        blocks = [diff(typed, n, layout=layout, convention=convention, expand=expand)
                  for n in several]
        for b in blocks:
            b.source = source
        stacked = Stacked(blocks[0].kind, blocks, [b.wrt for b in blocks])
        if check:
            stacked.verify(method="central").require()
        return stacked
    name = several[0] if several else _variable(wrt)
    typed, symbols, source = _typed(expr, shapes, symmetric, (name,), syntax)
    x = symbols[name]
    notes = list(typed.notes) + absent_variable(name, typed)
    with deep_recursion():
        defined(typed, source)
        d = _expanded(Derivative(typed, x, differential(typed, x), symbols, source, layout,
                                 convention, notes=notes), expand)
    if check:
        d.verify(method="central").require()
    return d


def absent_variable(name: str, e: Expr) -> list[str]:
    """A note when the variable does not occur (its derivative is zero), naming the
    nearest names that do: w → W, x → x₁, x₂."""
    import difflib
    own = symbols_of(e)
    if name in own:
        return []
    base = name.split("_")[0]
    near = [n for n in own if n.lower() == name.lower() or n.split("_")[0] == base]
    near += [n for n in difflib.get_close_matches(name, list(own), n=3, cutoff=0.6)
             if n not in near]
    shown = " or ".join(to_pretty(own[n]) for n in near)
    hint = f"; did you mean {shown}?" if near else ""
    return [f"{to_pretty(Symbol(name))} does not occur in the expression, so the "
            f"derivative is zero{hint}"]


def _diff_program(text, wrt, of, shapes, symmetric, layout, convention, check=False) -> Derivative:
    """∂(statement of)/∂wrt with the definitions substituted; a defined name as the
    variable stays a symbol (∂L/∂h treats h as free)."""
    program = parse_program(text, shapes, symmetric)
    name = _variable(wrt)
    keep = (name,) if name in program.names else ()
    d = diff(program.expr(of, keep), name, layout=layout, convention=convention)
    d.source, d.program = text, program
    if check:
        d.verify(method="central").require()
    return d


def _expanded(d, expand: bool):
    """The result multiplied out where it is a scalar polynomial (what verify checks is
    then the printed form)."""
    if expand and d.result is not None:
        from .calculus.expand import expand_polynomial
        d.result = expand_polynomial(d.result)
    return d


def defined(e: Expr, source: str | None = None) -> None:
    """Refuse an expression that is undefined as written (1/(α − α)): its derivative
    would otherwise cancel to a silent, wrong 0."""
    from .calculus.simplify import rebuild
    from .core.errors import DomainError
    try:
        rebuild(e)
    except DomainError as err:
        raise DomainError(err.message, source, e.span) from None


def hessian(expr, wrt, wrt2=None, *, shapes=None, symmetric=(), layout=None,
            syntax="matdiff", check=False, expand: bool = False) -> Hessian:
    """∂²f/∂x∂y for a scalar f: the derivative of the gradient ∇ₓf by y (default y = x).

    For vectors it is a matrix (H_ij = ∂²f/∂xᵢ∂yⱼ); for a matrix variable a rank-4 tensor
    with its Kronecker form (∇² tr(XᵀAX) = I ⊗ (A + Aᵀ)).
    """
    _options(layout, "unconstrained")
    several = _several(wrt)
    if several is not None and len(several) > 1:
        if wrt2 is not None:
            raise MatdiffError("wrt2 is for one mixed derivative; with several variables "
                               "the block Hessian has every mixed block")
        typed, _, _ = _typed(expr, shapes, symmetric, tuple(several), syntax)
        blocks = [[hessian(typed, a, b, layout=layout or "numerator", expand=expand)
                   for b in several]
                  for a in several]   # numerator: a scalar-by-vector block is a row
        return Stacked("hessian", blocks, [row[0].first_symbol() for row in blocks])
    if several is not None:
        wrt = several[0]
    first = diff(expr, wrt, shapes=shapes, symmetric=symmetric, syntax=syntax)
    if first.kind != "gradient":
        raise NoRuleError(f"a Hessian needs a scalar-valued expression; "
                          f"{to_pretty(first.expr)} is {shape_text(first.expr.shape)}",
                          first.source, first.expr.span)
    second = first.symbols[_variable(wrt2)] if wrt2 is not None and \
        _variable(wrt2) in first.symbols else None
    if wrt2 is not None and second is None:
        second = diff(expr, wrt2, shapes=shapes, symmetric=symmetric, syntax=syntax).wrt
    h = _expanded(Hessian(first.expr, first, second or first.wrt, layout), expand)
    if wrt2 is not None:
        h.notes += [n for n in absent_variable(second.name, first.expr) if n not in h.notes]
    h.program = first.program
    if check:
        h.verify(method="central").require()
    return h




class Taylor:
    """A Taylor polynomial of f about x₀ as an expression in x and x₀ (MML 5.148)."""

    def __init__(self, expr: Expr, f: Expr, wrt: Symbol, at: Symbol, order: int,
                 symbols: dict[str, Symbol]):
        self.expr, self.f, self.wrt, self.at, self.order = expr, f, wrt, at, order
        self.symbols = symbols

    def __str__(self) -> str:
        return self.text()

    def text(self) -> str:
        return to_text(self.expr)

    def pretty(self) -> str:
        return to_pretty(self.expr)

    def latex(self) -> str:
        return to_latex(self.expr)

    def equation(self) -> str:
        """f(x) ≈ … in LaTeX."""
        return f"{to_latex(self.f)} \\approx {self.latex()}"

    def _repr_latex_(self) -> str:
        return f"${self.equation()}$"

    def evaluate(self, values: dict):
        """The polynomial's value at values for x, x₀ and every other symbol."""
        from .check.evaluate import evaluate, to_user
        return to_user(evaluate(self.expr, values, None, self.symbols), ())

    def to_dict(self) -> dict:
        return {"input": to_text(self.f), "variable": self.wrt.name, "at": self.at.name,
                "order": self.order, "result": self.text(), "unicode": self.pretty(),
                "latex": self.latex()}

    def __repr__(self) -> str:
        return f"<Taylor order {self.order} of {to_pretty(self.f)} about {to_pretty(self.at)}: " \
            f"{self.pretty()}>"


def taylor(expr, wrt, at="x0", order: int = 2, *, shapes=None, symmetric=()) -> Taylor:
    """The Taylor polynomial of a scalar f about ``at`` (a new symbol shaped like wrt):
    f(x₀) + ∇f(x₀)ᵀ(x − x₀) + ½(x − x₀)ᵀ∇²f(x₀)(x − x₀) for order 2 (MML 5.148).

    Any order for a scalar variable; up to 2 for a vector; a matrix X order 1, and 2
    through the Kronecker form of its Hessian."""
    from .calculus.taylor import first_term, scalar_term, second_term
    if not isinstance(order, int) or isinstance(order, bool) or order < 0:
        raise MatdiffError(f"order must be a whole number ≥ 0, got {order!r}")
    name, point = _variable(wrt), _variable(at)
    typed, symbols, source = _typed(expr, shapes, symmetric, (name,))
    x = symbols[name]
    if typed.shape != ():
        raise NoRuleError(f"a Taylor polynomial needs a scalar-valued expression; "
                          f"{to_pretty(typed)} is {shape_text(typed.shape)}", source,
                          typed.span)
    if point in symbols:
        raise DeclarationError(f"the expansion point {point} is already a symbol of the "
                               f"expression: choose a new name such as {name}_0")
    x0 = Symbol(point, x.shape, x.symmetric)
    matrix = x.shape != () and x.shape[1] != 1
    if order > 2 and x.shape != ():
        raise NoRuleError(f"order {order} needs a scalar variable; for a vector or matrix "
                          f"{to_pretty(x)} matdiff expands to order 2", source, typed.span)
    terms = [substitute_point(typed, x, x0)]
    with deep_recursion():
        if x.shape == ():
            g = typed
            for k in range(1, order + 1):
                g = simplify(diff(g, x).result)
                terms.append(scalar_term(g, x, x0, k))
        else:
            if order >= 1:
                terms.append(first_term(diff(typed, x).result, x, x0))
            if order >= 2:
                H = hessian(typed, x)
                if matrix and H.kron is None:
                    raise NoRuleError(f"no Kronecker form for the Hessian by {to_pretty(x)}",
                                      source, typed.span)
                terms.append(second_term(H.kron if matrix else H.result, x, x0, matrix))
    from .calculus.simplify import add
    return Taylor(add(*terms), typed, x, x0, order, {**symbols, point: x0})


def substitute_point(e: Expr, x: Symbol, x0: Symbol) -> Expr:
    from .calculus.taylor import substitute
    return substitute(e, x, x0)


def oracle(method: str):
    """The check for a method name: 'sympy' (elementwise) or 'central' (differences)."""
    from .check.verifier import check_with_differences, check_with_sympy
    if method not in ("sympy", "central"):
        raise MatdiffError(f"unknown check method {method!r}: use 'sympy' or 'central'")
    return check_with_sympy if method == "sympy" else check_with_differences


def verify(expr, wrt=None, gradient=None, *, shapes=None, symmetric=(), method="sympy",
           seed=0, sizes=None, syntax="matdiff"):
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
    typed, symbols, _ = _typed(expr, shapes, symmetric, (name,), syntax)
    claimed = parse_like(gradient, symbols)
    return oracle(method)(typed, symbols[name], claimed, seed=seed, sizes=sizes)


def parse_like(text, symbols: dict[str, Symbol], shape=None) -> Expr:
    """Parse text with the shapes (and symmetry) the given symbols already have; with
    ``shape``, the expression is known to have that shape (a derivative's layout fixes
    it), which sizes a lone I or 𝟏."""
    if isinstance(text, Expr):
        return text
    from .core.shapes import Decl
    shapes = {n: Decl(s.shape, s.symmetric, s.probability) for n, s in symbols.items()}
    if shape is None or shape == ():
        return parse(text, shapes=shapes)
    from .core.nodes import Add, Zero
    decls = declarations(shapes, ())
    with deep_recursion():
        surface = read_surface(text, frozenset(decls))
        typed, _ = infer(Add((surface, Zero(shape))), decls, text)
    return typed.terms[0]


# ----- values ---------------------------------------------------------------------------

def _evaluate_stage(e: Expr, values: dict):
    from .check.evaluate import value_of
    return value_of(e, values)


STAGES["evaluate"] = _evaluate_stage


def evaluate(expr, values: dict, *, shapes=None, symmetric=()):
    """The value of an expression (or of a program's last statement) at the given values:
    a float, a 1-D vector or a 2-D matrix, with the conventions of Derivative.evaluate.

    >>> evaluate("Wx", {"W": [[1, 2, 3], [4, 5, 6]], "x": [9, 10, 11]})
    array([ 62., 152.])
    """
    if isinstance(expr, str) and is_program(expr):
        return parse_program(expr, shapes=shapes, symmetric=symmetric).evaluate(values)
    return parse(expr, shapes, symmetric).evaluate(values)


def values_from_text(text: str) -> dict:
    """Values written as ``W=[[1,2,3],[4,5,6]]; x=[9,10,11]; c=2`` (read with
    ast.literal_eval, never eval): a number, a list (vector) or a list of rows (matrix)."""
    import ast

    from .core.errors import EvaluationError
    out, start = {}, 0
    for part in text.split(";"):
        name, eq, literal = part.partition("=")
        if not eq or not name.strip():
            raise EvaluationError("write values as 'name = value; …', e.g. "
                                  "'W=[[1,2],[3,4]]; x=[1,2]'", text,
                                  (start, start + max(1, len(part))))
        try:
            out[canonical_name(name.strip())] = ast.literal_eval(literal.strip())
        except (ValueError, SyntaxError):
            at = start + len(name) + 1
            raise EvaluationError(f"the value of {name.strip()} is not a number or a list of "
                                  f"numbers", text, (at, at + max(1, len(literal)))) from None
        start += len(part) + 1
    return out


# ----- programs of definitions ----------------------------------------------------------

class Program:
    """Statements ``name = expression`` in order, each over earlier names and free symbols.

    * ``statements``: the parsed statements (name, surface tree, span), in order;
    * ``shapes``: the shape of every free symbol and every defined name;
    * ``symbols``: the free symbols (typed), ``definitions``: name → typed expression
      over earlier names (what a backprop pass walks);
    * ``expr(of)``: a statement with every definition substituted (typed).
    """

    def __init__(self, text: str, statements, decls: dict):
        from .core.nodes import Add, Sum
        from .core.shapes import Decl
        from .language.program import expand
        self.source, self.statements = text, statements
        self.names = [s.name for s in statements]
        said: list[str] = []
        with deep_recursion():   # one inference over all statements: shapes flow
            full = [expand(statements, i) for i in range(len(statements))]
            typed, symbols = infer(Add(tuple(Sum(f) for f in full)), decls, text,
                                   notes=said, columns=True)
        # sum(·) made each statement a scalar term; a scalar statement stays itself
        expanded = [t.arg if isinstance(t, Sum) and not isinstance(f, Sum) else t
                    for t, f in zip(typed.terms, full)]
        self.symbols = {n: s for n, s in symbols.items() if n not in self.names}
        self.expanded = dict(zip(self.names, expanded))
        self.shapes = {**{n: s.shape for n, s in self.symbols.items()},
                       **{n: e.shape for n, e in self.expanded.items()}}
        known = {**_decls(self.symbols), **{n: Decl(self.shapes[n]) for n in self.names}}
        self.definitions = {s.name: infer(s.surface, known, text, columns=True)[0]
                            for s in statements}
        self.notes: list[str] = [n for s in statements for n in s.notes] + \
            list(dict.fromkeys(n for n in said if "bias broadcast" in n))

    def _index(self, of) -> int:
        if of is None:
            return len(self.statements) - 1
        name = canonical_name(of)
        if name not in self.names:
            raise MatdiffError(f"{of} is not defined in this program (it defines "
                               f"{', '.join(self.names)})")
        return self.names.index(name)

    def expr(self, of=None, keep=()) -> Expr:
        """Statement ``of`` (default: the last) with the definitions substituted, except
        those named in ``keep`` (which stay symbols), typed with the program's shapes."""
        from .core.shapes import Decl
        from .language.program import substitute
        i = self._index(of)
        if not keep:
            return self.expanded[self.names[i]]
        surface: dict[str, Expr] = {}
        for s in self.statements[:i + 1]:
            surface[s.name] = substitute(s.surface, {n: e for n, e in surface.items()
                                                     if n not in keep})
        decls = {**_decls(self.symbols), **{n: Decl(self.shapes[n]) for n in keep}}
        with deep_recursion():
            return infer(surface[self.names[i]], decls, self.source, columns=True)[0]

    def fold(self, e: Expr) -> Expr:
        """e written with the defined names where their definitions appear in it."""
        from .language.program import fold
        defs = [(Symbol(n, self.shapes[n]), simplify(self.definitions[n]),
                 simplify(transpose(self.definitions[n]))) for n in self.names]
        return fold(e, defs)

    def values(self, values: dict) -> dict:
        """The value of every defined name at the values of the free symbols."""
        out, given = {}, dict(values)
        for n in self.names:
            out[n] = self.definitions[n].evaluate(
                {k: v for k, v in {**given, **out}.items()
                 if canonical_name(str(k)) in symbols_of(self.definitions[n])})
        return out

    def evaluate(self, values: dict, of=None):
        """The value of statement ``of`` (default: the last)."""
        return self.values(values)[self.names[self._index(of)]]

    def __repr__(self) -> str:
        return "<Program " + "; ".join(f"{to_pretty(Symbol(n))} = {to_pretty(self.definitions[n])}"
                                       for n in self.names) + ">"


def _decls(symbols: dict[str, Symbol]) -> dict:
    from .core.shapes import Decl
    return {n: Decl(s.shape, s.symmetric, s.probability) for n, s in symbols.items()}


def is_program(text) -> bool:
    """Text with a definition ``name = …`` is a program."""
    from .language.program import is_program as check
    return check(text)


def parse_program(text: str, shapes=None, symmetric=()) -> Program:
    """Read a program of definitions (``;``, new lines or ``\\\\`` between statements)."""
    from .language.program import parse_statements
    if not isinstance(text, str):
        raise MatdiffError(f"expected the program as a string, got {type(text).__name__}")
    decls = declarations(shapes, symmetric)
    statements = parse_statements(text, read_surface, frozenset(decls))
    return Program(text, statements, decls)


# ----- backprop: every gradient of a program at once, and layer rules (VJPs) -------------

DATA_LETTERS = frozenset("xXyYtT")   # inputs and targets, as the notes name them


class Gradients:
    """The reverse pass through a program: stored upstream gradients δ flowing back
    statement by statement, and ∂L/∂p for every parameter p (see calculus/backprop.py).

    * ``lines``: :class:`~matdiff.calculus.backprop.Line` s in the order of the pass;
    * ``parameters`` and ``data``: the free symbols differentiated by, and the rest;
    * ``upstream``: for a layer rule (:func:`vjp`), the symbol G = ∂L/∂Y, else None.
    Every printed line reads back (``text()`` in the matdiff language) with the δ names,
    the defined names and the free symbols; :meth:`verify` checks each gradient's value.
    """

    def __init__(self, program: Program, lines, output: str, parameters, data,
                 upstream: Symbol | None = None, notes=()):
        self.program, self.lines, self.output = program, list(lines), output
        self.parameters, self.data, self.upstream = list(parameters), list(data), upstream
        self.notes = list(notes)
        self.symbols = {**program.symbols,
                        **{n: Symbol(n, program.shapes[n]) for n in program.names},
                        **{ln.target.name: ln.target for ln in self.lines}}
        if upstream is not None:
            self.symbols[upstream.name] = upstream

    @property
    def gradients(self) -> dict[str, Expr]:
        """Parameter name → ∂L/∂p (written with δ names and defined names)."""
        return {ln.target.name: ln.expr for ln in self.lines if ln.kind == "gradient"}

    @property
    def deltas(self) -> dict[str, Expr]:
        """δ name → its expression, in the order of the pass."""
        return {ln.target.name: ln.expr for ln in self.lines if ln.kind == "delta"}

    # ----- printing ---------------------------------------------------------------------

    def _label(self, line, style: str) -> str:
        render = {"text": to_text, "pretty": to_pretty, "latex": to_latex}[style]
        if line.kind == "delta":
            return render(line.target)
        loss = "L" if self.upstream is not None else self.output
        f, x = (render(Symbol(loss)), render(line.target))
        return {"text": f"d{f}/d{x}", "pretty": f"∂{f}/∂{x}",
                "latex": f"\\frac{{\\partial {f}}}{{\\partial {x}}}"}[style]

    def _lines(self, style: str) -> list[tuple[str, str]]:
        render = {"text": to_text, "pretty": to_pretty, "latex": to_latex}[style]
        rows = [(self._label(ln, style), render(ln.expr, False, self.symbols, True))
                for ln in self.lines]
        if style == "latex":   # LaTeX is not read back: δ takes the statement's own name
            for ln in self.lines:
                if ln.kind == "delta":
                    old, new = to_latex(ln.target), \
                        f"\\delta_{{{to_latex(Symbol(ln.of, ln.target.shape))}}}"
                    rows = [(a.replace(old, new), b.replace(old, new)) for a, b in rows]
        return rows

    def text(self) -> str:
        """One line per step, ``label = expression``, expressions in the matdiff language."""
        return "\n".join(f"{a} = {b}" for a, b in self._lines("text"))

    def pretty(self) -> str:
        return "\n".join(f"{a} = {b}" for a, b in self._lines("pretty"))

    __str__ = pretty

    def latex(self) -> str:
        """An ``align*`` block (amsmath) ready to paste into notes."""
        rows = " \\\\\n".join(f"  {a} &= {b}" for a, b in self._lines("latex"))
        return "\\begin{align*}\n" + rows + "\n\\end{align*}"

    def to_dict(self) -> dict:
        def entry(ln, text, pretty, latex):
            out = {"name": ln.target.name, "label": pretty[0], "result": text[1],
                   "unicode": pretty[1], "latex": latex[1]}
            if ln.kind == "delta":
                out["statement"] = ln.of
                out["at"] = to_pretty(ln.at) if ln.at is not None else ln.of
            return out
        rows = list(zip(self.lines, self._lines("text"), self._lines("pretty"),
                        self._lines("latex")))
        return {"input": self.program.source, "output": self.output,
                "upstream": self.upstream.name if self.upstream is not None else None,
                "parameters": [p.name for p in self.parameters],
                "data": [d.name for d in self.data],
                "deltas": [entry(*r) for r in rows if r[0].kind == "delta"],
                "gradients": [entry(*r) for r in rows if r[0].kind == "gradient"],
                "latex": self.latex(), "notes": list(self.notes)}

    def __repr__(self) -> str:
        return "<Gradients " + "; ".join(f"{a} = {b}" for a, b in self._lines("pretty")) + ">"

    # ----- numbers ----------------------------------------------------------------------

    def read_back(self) -> list[Expr]:
        """Every printed line (its text and its Unicode) parsed again with the problem's
        shapes; raises VerificationError when a line does not read back or the two
        printed forms differ."""
        from .core.errors import VerificationError
        out = []
        for ln, (_, text), (_, pretty) in zip(self.lines, self._lines("text"),
                                              self._lines("pretty")):
            forms = []
            for printed in (text, pretty):
                try:
                    forms.append(parse_like(printed, self.symbols, ln.target.shape))
                except MatdiffError as e:
                    raise VerificationError(f"the printed line for {ln.target.name} does "
                                            f"not read back: {printed!r}: {e.message}") from None
            if forms[0] != forms[1] and to_text(forms[0]) != to_text(forms[1]):
                raise VerificationError(f"the text and Unicode lines for {ln.target.name} "
                                        f"read back differently")
            out.append(forms[0])
        return out

    def evaluate(self, values: dict) -> dict:
        """Every δ and every gradient at the values of the free symbols (and, for a layer
        rule, of the upstream G), computed from the printed lines read back."""
        from .check.evaluate import bind, to_user
        from .check.evaluate import evaluate as value
        given = {**self.program.symbols, **({self.upstream.name: self.upstream}
                                             if self.upstream is not None else {})}
        _, dims = bind(given, {k: v for k, v in values.items()
                               if canonical_name(str(k)) in given})
        env = {**{canonical_name(str(k)): v for k, v in values.items()},
               **self.program.values({k: v for k, v in values.items()
                                      if canonical_name(str(k)) in self.program.symbols})}
        out = {}
        for ln, form in zip(self.lines, self.read_back()):
            own = symbols_of(form)
            v = to_user(value(form, {k: env[k] for k in own}, dims, own), ln.target.shape)
            out[ln.target.name] = v
            if ln.kind == "delta":   # a gradient is named by its parameter: not a value
                env[ln.target.name] = v
        return out

    def verify(self, seed: int = 0, values: dict | None = None):
        """Check every printed gradient against central differences of the program's
        output and against ``diff(program, p)``; returns a list of
        (parameter, max error vs differences, max error vs diff), raising
        VerificationError when one is off."""
        import numpy as np

        from .core.errors import VerificationError
        values = values if values is not None else self.random_values(seed)
        ours = self.evaluate(values)
        report = []
        for p in self.parameters:
            claimed = np.asarray(ours[p.name], dtype=float)
            central = self._central(values, p.name)
            by_diff = np.asarray(self._diffed(p.name).evaluate(
                {k: v for k, v in values.items()
                 if k in self._diffed(p.name).symbols}), dtype=float)
            errors = (float(np.max(np.abs(claimed - central), initial=0.0)),
                      float(np.max(np.abs(claimed - by_diff.reshape(claimed.shape)),
                                   initial=0.0)))
            scale = 1 + float(np.max(np.abs(central), initial=0.0))
            if errors[0] > 1e-5 * scale or errors[1] > 1e-8 * scale:
                raise VerificationError(f"∂{self.output}/∂{p.name}: the printed gradient is "
                                        f"off by {errors[0]:.3g} from central differences "
                                        f"and {errors[1]:.3g} from diff")
            report.append((p.name, *errors))
        return report

    def _diffed(self, name):
        if not hasattr(self, "_diff_cache"):
            self._diff_cache = {}
        if name not in self._diff_cache:
            program = self.program if self.upstream is None else self._with_loss()
            keep = ()
            self._diff_cache[name] = diff(program.expr(self._loss_name(), keep), name)
        return self._diff_cache[name]

    def _loss_name(self):
        return self.output if self.upstream is None else "ell"

    def _with_loss(self) -> Program:
        """A layer rule checked as a program: ℓ = tr(Gᵀ Y) after the definition."""
        y = to_text(Symbol(self.output))
        g = to_text(self.upstream)
        return parse_program(f"{self.program.source}; ell = tr({g}^T {y})",
                             shapes={n: s.shape for n, s in
                                     {**self.program.symbols, g: self.upstream}.items()})

    def _output_value(self, values) -> float:
        import numpy as np
        if self.upstream is None:
            return float(self.program.evaluate(values, self.output))
        y = np.asarray(self.program.evaluate({k: v for k, v in values.items()
                                              if k in self.program.symbols}, self.output))
        g = np.asarray(values[self.upstream.name], dtype=float)
        return float(np.sum(g.reshape(y.shape) * y))

    def _central(self, values, name, h=1e-6):
        import numpy as np
        x = np.asarray(values[name], dtype=float)
        out = np.zeros(x.shape)
        for i in np.ndindex(x.shape):
            up, down = x.copy(), x.copy()
            up[i] += h
            down[i] -= h
            out[i] = (self._output_value({**values, name: up}) -
                      self._output_value({**values, name: down})) / (2 * h)
        return out

    def random_values(self, seed: int = 0) -> dict:
        """Domain-valid random values of every free symbol (and G), at distinct sizes."""
        from .check.verifier import _user, choose_sizes, random_point
        symbols = dict(self.program.symbols)
        if self.upstream is not None:
            symbols[self.upstream.name] = self.upstream
        whole = self.program.expr(self.output)
        sizes = choose_sizes([whole] + ([self.upstream] if self.upstream else []),
                             next(iter(symbols.values())), start=2)
        point = random_point(symbols, sizes, seed)
        return {n: _user(v, symbols[n].shape) for n, v in point.items()}


def _split_names(names) -> list[str]:
    if names is None:
        return []
    if isinstance(names, str):
        names = [n for n in names.replace(";", ",").split(",") if n.strip()]
    return [_variable(n) for n in names]


def _parameters(program: Program, wrt, data, skip=()) -> tuple[list, list, list[str]]:
    """The parameters: ``wrt`` if given, else every free symbol that is not data (named
    in ``data``, or by default a scalar or a name whose letter is x, X, y, Y, t, T)."""
    from .core.names import name_parts
    symbols = {n: s for n, s in program.symbols.items() if n not in skip}
    chosen, given_data = _split_names(wrt), _split_names(data)
    for n in chosen + given_data:
        if n not in symbols:
            raise DeclarationError(f"{n} is not a free symbol of the program (its free "
                                   f"symbols: {', '.join(symbols) or 'none'})")
    notes = []
    if not chosen:
        chosen = [n for n, s in symbols.items() if n not in given_data and s.shape != ()
                  and (given_data or name_parts(n)[0] not in DATA_LETTERS)]
        if not chosen:
            raise DeclarationError("no parameters to differentiate by: name them with "
                                   "wrt= (CLI --wrt W1,b1)")
        rule = "not named as data" if given_data else \
            "but the data (names whose letter is x, X, y, Y, t or T)"
        notes.append(f"parameters: {', '.join(to_pretty(symbols[n]) for n in chosen)} — "
                     f"every free matrix or vector {rule}; name them with --wrt, or the "
                     f"data with --data")
    data_names = [n for n in symbols if n not in chosen]
    return [symbols[n] for n in chosen], [symbols[n] for n in data_names], notes


def gradients(program, wrt=None, *, data=None, of=None, shapes=None, symmetric=(),
              check=False) -> Gradients:
    """∂L/∂p for every parameter p of a program at once, by the reverse pass: the last
    statement (or ``of``) is L; ``wrt`` names the parameters (default: every free matrix
    or vector that is not data — see :func:`_parameters`; ``data`` names the data)."""
    from .calculus.backprop import reverse_pass
    p = program if isinstance(program, Program) else parse_program(program, shapes, symmetric)
    out = p.names[p._index(of)]
    if p.shapes[out] != ():
        raise NoRuleError(f"backprop needs a scalar output: {out} is "
                          f"{shape_text(p.shapes[out])} (name a scalar with of=, or give "
                          f"an upstream gradient: matdiff.vjp)")
    params, data_syms, notes = _parameters(p, wrt, data)
    with deep_recursion():
        lines = reverse_pass(p.names, p.definitions, out, params, p.fold)
    g = Gradients(p, lines, out, params, data_syms, notes=p.notes + notes)
    if check:
        g.verify()
    return g


def vjp(definition, upstream="G", wrt=None, *, shapes=None, symmetric=(),
        check=False) -> Gradients:
    """The layer rule (vector–Jacobian product) of a definition Y = f(…): with the
    upstream gradient G = ∂L/∂Y (a symbol shaped like Y), ∂L/∂p is the gradient of
    tr(GᵀY) by each input p (default: every free symbol but G)."""
    from .calculus.backprop import Line
    from .calculus.backprop import vjp as pull
    from .core.nodes import Zero
    from .core.shapes import Decl
    p = definition if isinstance(definition, Program) else \
        parse_program(definition, shapes, symmetric)
    out = p.names[-1]
    g_name = _variable(upstream)
    if g_name in p.symbols or g_name in p.names:
        raise DeclarationError(f"the upstream gradient {g_name} is already a name in "
                               f"{p.source!r}: choose another with upstream=")
    g = infer(Symbol(g_name), {g_name: Decl(p.shapes[out])})[1][g_name]
    params, data_syms, _ = _parameters(p, wrt or list(p.symbols), None)
    body = p.expr(out)
    lines = []
    with deep_recursion():
        for x in params:
            grad = pull(body, g, x)
            lines.append(Line("gradient", x, out, p.fold(simplify(grad)) if grad is not None
                              else Zero(x.shape)))
    v = Gradients(p, lines, out, params, data_syms, upstream=g,
                  notes=p.notes + [f"{to_pretty(g)} = ∂L/∂{to_pretty(Symbol(out))}: the "
                                   f"upstream gradient, shaped like {to_pretty(Symbol(out))}"
                                   f" ({shape_text(p.shapes[out])})"])
    if check:
        v.verify()
    return v


# ----- generated code -------------------------------------------------------------------

def compile(expr, wrt, *, hessian=False, backend="numpy", shapes=None, symmetric=(),
            syntax="matdiff"):
    """Generated code for f and its derivatives, as a callable.

    ``fn(**values)`` returns ``(value, gradient)`` or, with ``hessian=True``,
    ``(value, gradient, hessian)``; with several variables (``wrt=["W", "b"]``) the
    gradients are a tuple in that order and the Hessian a tuple of rows of blocks
    ∂²f/∂xᵢ∂xⱼ.  Values follow :func:`evaluate`'s conventions (vectors 1-D).  The module is
    generated for the sizes of each new call signature (matrix-chain order from the
    actual sizes), written to a cache directory and imported; ``fn.source()`` shows it.
    ``backend='jax'`` returns a ``jax.jit``-compiled function (install ``matdiff[jax]``).
    A non-scalar expression gives its Jacobian (or derivative tensor) instead of a gradient.
    ``syntax`` is the input's dialect, as for :func:`diff`.
    """
    from .codegen import BACKENDS, Compiled
    if backend not in BACKENDS:
        raise MatdiffError(f"unknown backend {backend!r}: use 'numpy' or 'jax'")
    return Compiled(_code_spec(expr, wrt, hessian, shapes, symmetric, syntax), backend)


def _code_spec(expr, wrt, want_hessian, shapes, symmetric, syntax="matdiff"):
    from .codegen import make_spec
    names = [wrt] if isinstance(wrt, (str, Symbol)) else list(wrt)
    if not names:
        raise MatdiffError("compile needs at least one variable")
    firsts = [diff(expr, w, shapes=shapes, symmetric=symmetric, syntax=syntax) for w in names]
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

