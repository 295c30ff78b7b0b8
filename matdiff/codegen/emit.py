"""From a planned DAG to the source of a self-contained Python module.

A backend is a table of rules keyed by node type (one small rule per node: it spells the
node from its children's code) plus a prelude; a node without a rule is a NoRuleError.
Nodes used more than once become named temporaries (t1, t2, ...), so each shared
subexpression is computed once.
"""
from __future__ import annotations

import keyword
import re
from dataclasses import dataclass, field

from ..core.errors import MatdiffError, NoRuleError
from ..core.nodes import Const, Differential, Expr, Symbol, walk
from ..core.shapes import numpy_shape
from ..language.render import shape_text
from .plan import lower, parents


@dataclass
class Output:
    """One returned array: its expression, and what the caller sees.

    ``tensor`` = (F shape, X shape) when ``expr`` is a vec/Kronecker form M with
    d vec(F) = M d vec(X), returned as the tensor ∂F/∂X in the order F.shape + X.shape.
    """
    name: str
    expr: Expr
    user_shape: tuple
    label: str = ""
    tensor: tuple | None = None
    along: object = None     # a Symbol x: expr is the differential dF (linear in dx)
    gradient_of: object = None   # a Symbol X: expr is ∇f by X (⟨X, ∇f⟩ is the rate of f)


@dataclass
class Spec:
    """Everything a generated module computes: f and its derivatives."""
    source: str                     # the input as the user wrote it
    symbols: dict                   # name → Symbol, the function's parameters in order
    outputs: list[Output]
    returns: object                 # nested tuple of output indices
    wrt: tuple[str, ...] = ()
    derivative_index: tuple = ()    # index (in outputs) of the first derivative per wrt
    notes: list[str] = field(default_factory=list)


@dataclass
class Backend:
    name: str
    rules: dict
    imports: str
    helpers: dict                   # helper name → source
    array: str                      # how an input becomes an array: format with {x}
    np: str                         # the array namespace's name in the module
    wrap: str = ""                  # module tail (e.g. a jitted alias)
    elementwise: dict = field(default_factory=dict)   # Func name → spelling
    # rules that know how each argument is laid out (see Emitter.body): node type →
    # rule(node, [(code, kind), ...], emitter) → (code, kind); the rest use ``rules``
    layout_rules: dict = field(default_factory=dict)


_NUMBER = re.compile(r"\d+(\.\d*)?(e[-+]?\d+)?|\d*\.\d+(e[-+]?\d+)?")
_NAME = re.compile(r"[^\W\d]\w*(\.[^\W\d]\w*)*")


def atom(code: str) -> str:
    """The code as an operand of an operator: bracketed unless it is a name, an unsigned
    number, or one call/subscript whose brackets close at the end."""
    if _NAME.fullmatch(code) or _NUMBER.fullmatch(code):
        return code
    if code.startswith("(") and _closes_at_end(code, 0):
        return code
    m = _NAME.match(code)
    if m and m.end() < len(code) and code[m.end()] in "([" and _closes_at_end(code, m.end()):
        return code
    return f"({code})"


def _closes_at_end(code: str, start: int) -> bool:
    depth = 0
    for i in range(start, len(code)):
        ch = code[i]
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
            if depth == 0:
                rest = code[i + 1:]
                if not rest:
                    return True
                if rest[0] in "([" and _closes_at_end(rest, 0):
                    return True
                return bool(re.fullmatch(r"(\.[A-Za-z_]\w*)+", rest))
    return False


def kind_of(shape) -> str:
    """How a value of this matrix shape is held in generated code: 's' a scalar, 'c' a
    column vector as a 1-D array, 'r' a row vector as a 1-D array, 'm' a 2-D array.
    Vectors are 1-D so that products against them are BLAS gemv/dot calls on the caller's
    arrays, without reshapes (as a careful human writes ``A @ x`` and ``x @ y``)."""
    if shape == ():
        return "s"
    rows, cols = shape
    if cols == 1 and rows != 1:
        return "c"
    if rows == 1 and cols != 1:
        return "r"
    return "m"


def user_kind(shape) -> str:
    """The layout of an input of this shape as the caller passes it (numpy_shape)."""
    user = numpy_shape(shape)
    return "s" if user == () else "c" if len(user) == 1 else "m"


def as_2d(code: str, kind: str) -> str:
    if kind == "c":
        return f"{atom(code)}[:, None]"
    if kind == "r":
        return f"{atom(code)}[None, :]"
    return code


def as_kind(code: str, kind: str, want: str) -> str:
    """The same logical value held as ``want`` (a scalar broadcasts as it is)."""
    if kind == want or kind == "s" or want == "s":
        return code
    if want == "m":
        return as_2d(code, kind)
    if kind in "cr":
        return code
    return f"{atom(code)}.reshape(-1)"


def number(value) -> str:
    v = float(value)
    return repr(int(v)) + ".0" if v == int(v) and abs(v) < 1e15 else repr(v)


class Emitter:
    """Writes the body of one function: input checks, temporaries, returned values."""

    def __init__(self, backend: Backend, spec: Spec):
        self.backend, self.spec = backend, spec
        self.np = backend.np
        self.needed: list[str] = []
        taken = set()
        self.vars = {}
        for name in spec.symbols:
            self.vars[name] = _identifier(name, taken)
        self.dim_vars: dict = {}
        self.taken = taken
        self.temps = 0
        self.directions: dict = {}
        self.code: dict = {}

    def helper(self, name: str) -> str:
        if name not in self.needed:
            self.needed.append(name)
        return name

    def direction(self, name: str) -> str:
        if name not in self.directions:
            self.directions[name] = _identifier(f"d{self.var(name)}", self.taken)
        return self.directions[name]

    def var(self, name: str) -> str:
        return self.vars[name]

    def dim(self, d) -> str:
        if isinstance(d, int):
            return str(d)
        parts = str(d).split("·")
        if len(parts) > 1:
            return " * ".join(self.dim(int(p) if p.isdigit() else p) for p in parts)
        if d not in self.dim_vars:
            raise MatdiffError(f"the dimension {d} is not fixed by the shape of any input, "
                               f"so generated code cannot know it")
        return self.dim_vars[d]

    def shape(self, shape) -> str:
        if shape == ():
            return "()"
        return f"({self.dim(shape[0])}, {self.dim(shape[1])})"

    def user_shape(self, shape) -> str:
        inner = ", ".join(self.dim(d) for d in shape)
        return f"({inner},)" if len(shape) == 1 else f"({inner})"

    # input checks ---------------------------------------------------------------------

    def checks(self) -> list[str]:
        """Conversion and shape checks; ``self.prologue`` gets the part a caller that has
        already checked the shapes still needs (vector reshapes, dimension names)."""
        lines, self.prologue, pending = [], [], []
        for name, sym in self.spec.symbols.items():
            v = self.var(name)
            lines.append(f"{v} = {self.backend.array.format(x=v)}")
            shape = sym.shape
            want = shape_text(shape)
            if shape == ():
                lines.append(f"if {v}.size != 1:")
                lines.append(f"    raise ShapeError(f\"{name} should be a scalar, got shape "
                             f"{{{v}.shape}}\")")
                lines.append(f"{v} = {v}.reshape(())")
                continue
            column = user_kind(shape) == "c"      # held 1-D, as the caller passes it
            if column:
                lines.append(f"if {v}.ndim == 2 and {v}.shape[1] == 1:")
                lines.append(f"    {v} = {v}.reshape(-1)")
            elif shape[0] == 1:
                lines.append(f"if {v}.ndim == 1:")
                lines.append(f"    {v} = {v}.reshape(1, -1)")
            lines.append(f"if {v}.ndim != {1 if column else 2}:")
            lines.append(f"    raise ShapeError(f\"{name} should be {want}, got shape "
                         f"{{{v}.shape}}\")")
            fresh = []
            for axis, d in enumerate(shape[:1] if column else shape):
                if isinstance(d, str) and "·" not in d and d not in self.dim_vars:
                    self.dim_vars[d] = _identifier(d, self.taken)
                    lines.append(f"{self.dim_vars[d]} = {v}.shape[{axis}]")
                    self.prologue.append(lines[-1])
                    fresh.append(d)
            if len(fresh) != (1 if column else 2):   # else every dimension was just read
                if self._known(shape):
                    lines += self._shape_check(name, v, shape, want)
                else:      # a dimension such as m·n that a later input fixes
                    pending.append((name, v, shape, want))
        for name, v, shape, want in pending:
            lines += self._shape_check(name, v, shape, want)
        return lines

    def _known(self, shape) -> bool:
        return all(isinstance(d, int) or all(p.isdigit() or p in self.dim_vars
                                             for p in str(d).split("·")) for d in shape)

    def _shape_check(self, name, v, shape, want) -> list[str]:
        return [f"if {v}.shape != {self.user_shape(numpy_shape(shape))}:",
                f"    raise ShapeError(f\"{name} should be {want}, got shape "
                f"{{{v}.shape}}\" + _bound({self._bound_text()}))"]

    def _bound_text(self) -> str:
        items = ", ".join(f"{d!r}: {v}" for d, v in self.dim_vars.items())
        return "{" + items + "}"

    # the computation ------------------------------------------------------------------

    def body(self, lowered: list[Expr], code: dict | None = None) -> list[str]:
        uses: dict = {}
        for out in lowered:
            uses[out] = uses.get(out, 0) + 1
        for node, count in parents(lowered).items():
            uses[node] = uses.get(node, 0) + count
        if code is None:
            code = {}                   # by structure: equal subtrees are emitted once
        lines: list[str] = []
        for out in lowered:
            for node in walk(out):
                if node in code:
                    continue
                text, kind = self.spell(node, [code[k] for k in node.children()])
                if uses.get(node, 0) > 1 and not isinstance(node, (Symbol, Const)) and \
                        not _NAME.fullmatch(text) and not _NUMBER.fullmatch(text):
                    self.temps += 1
                    name = _identifier(f"t{self.temps}", self.taken)
                    lines.append(f"{name} = {text}")
                    text = name
                code[node] = (text, kind)
        self.code = code
        return lines

    def spell(self, node: Expr, args: list) -> tuple[str, str]:
        """(code, kind) of a node from its children's (code, kind): a layout rule when the
        backend has one, else the plain rule on 2-D arguments (its result is 2-D)."""
        if isinstance(node, Symbol):
            return self.var(node.name), user_kind(node.shape)
        if isinstance(node, Differential):
            return self.direction(node.of.name), user_kind(node.of.shape)
        rule = self.backend.layout_rules.get(type(node))
        if rule is not None:
            return rule(node, args, self)
        rule = self.backend.rules.get(type(node))
        if rule is None:
            raise NoRuleError(f"the {self.backend.name} backend has no rule for "
                              f"{type(node).__name__} nodes")
        text = rule(node, [as_2d(t, k) for t, k in args], self)
        return text, ("s" if node.shape == () else "m")

    def result(self, out: Output, node: Expr) -> str:
        text, kind = self.code[node]
        if out.tensor is not None:
            (mf, qf), (mx, qx) = (s if s != () else (1, 1) for s in out.tensor)
            return (f"{atom(text)}.reshape({self.dim(qf)}, {self.dim(mf)}, {self.dim(qx)}, "
                    f"{self.dim(mx)}).transpose(1, 0, 3, 2).reshape"
                    f"{self.user_shape(out.user_shape)}")
        if out.user_shape == ():
            return f"{atom(text)}[0, 0]" if kind == "m" else \
                f"{atom(text)}[0]" if kind in "cr" else text
        if len(out.user_shape) == 1:
            return text if kind in "cr" else f"{atom(text)}.reshape(-1)"
        if kind == "m" and numpy_shape(node.shape) == tuple(out.user_shape):
            return text
        return f"{atom(text)}.reshape{self.user_shape(out.user_shape)}"


def _identifier(name: str, taken: set) -> str:
    base = name if name.isidentifier() and not keyword.iskeyword(name) else \
        "v_" + "".join(ch if (ch.isalnum() or ch == "_") else "_" for ch in name)
    out, k = base, 1
    while out in taken or out in RESERVED:
        k += 1
        out = f"{base}_{k}"
    taken.add(out)
    return out


# the module's own names; a user's symbol (never starting with _) keeps its name in the
# signatures, so f_and_g(**values) and check_gradient(**values) take the user's words
RESERVED = {"np", "jnp", "jax", "compute", "ShapeError", "check_gradient", "f_and_g", "math",
            "_bound", "_pick", "WRT"}


def module_source(spec: Spec, backend: Backend, sizes: dict | None = None,
                  header: list[str] = ()) -> str:
    """The source of a module defining ``f_and_g`` and ``check_gradient``."""
    gradients = {i: o.gradient_of for i, o in enumerate(spec.outputs)
                 if o.gradient_of is not None and o.along is None and o.tensor is None}
    lowered = lower([o.expr for o in spec.outputs], sizes, gradients)
    em = Emitter(backend, spec)
    checks = em.checks()
    body = em.body([n for o, n in zip(spec.outputs, lowered) if o.along is None])
    results, outer = [], dict(em.code)
    for i, (out, node) in enumerate(zip(spec.outputs, lowered)):
        var = _identifier(out.name, em.taken)
        results.append(var)
        if out.along is None:
            body.append(f"{var} = {em.result(out, node)}")
            continue
        # no closed form: the tensor column by column, dF applied to each basis direction
        inner = _identifier(f"d_{out.name}", em.taken)
        d = em.direction(out.along.name)
        lines = em.body([node], dict(outer))
        body.append(f"def {inner}({d}):")
        body += ["    " + line for line in lines]
        text, kind = em.code[node]
        f_kind = user_kind(out.expr.shape)
        body.append(f"    return {as_kind(text, kind, f_kind)}")
        em.code = outer
        f_shape = em.user_shape(numpy_shape(out.expr.shape)) if f_kind != "s" else "()"
        x_shape = em.user_shape(numpy_shape(out.along.shape)) \
            if user_kind(out.along.shape) != "s" else "()"
        body.append(f"{var} = {em.helper('_from_differential')}({inner}, {f_shape}, "
                    f"{x_shape}).reshape{em.user_shape(out.user_shape)}")
    params = ", ".join(em.var(n) for n in spec.symbols)
    returned = _returns(spec.returns, results)
    lines = ['"""' + "\n".join(header) + '\n"""', ""] if header else []
    lines += [backend.imports, "", "ShapeError = ValueError   # the caller may replace it",
              "", ""]
    lines += ["\n\n".join(backend.helpers[name] for name in ["_bound"] + em.needed)]
    lines += ["", f"WRT = {tuple(spec.wrt)!r}", "", "",
              f"def f_and_g({params}):",
              f'    """{_doc(spec)}"""']
    lines += ["    " + line for line in checks]
    lines += [f"    return compute({params})", "", "",
              f"def compute({params}):",
              '    """f_and_g without conversions and checks: float arrays of checked shapes."""']
    text = "\n".join(body)
    used = [line for line in em.prologue if ".shape[" not in line or
            re.search(rf"\b{re.escape(line.split(' = ')[0])}\b", text)]
    lines += ["    " + line for line in used + body]
    lines += [f"    return {returned}", "", ""]
    lines += _check_gradient(spec, em, backend).splitlines()
    if backend.wrap:
        lines += ["", backend.wrap]
    lines += _main(spec, em).splitlines()
    return "\n".join(lines).rstrip() + "\n"


def _returns(structure, names) -> str:
    if isinstance(structure, int):
        return names[structure]
    inner = ", ".join(_returns(s, names) for s in structure)
    return f"({inner},)" if len(structure) == 1 else f"({inner})"


def _doc(spec: Spec) -> str:
    parts = ", ".join(o.label for o in spec.outputs if o.label)
    return f"Returns {parts}." if parts else "Returns the value."


def _check_gradient(spec: Spec, em: Emitter, backend: Backend) -> str:
    params = ", ".join(em.var(n) for n in spec.symbols)
    names = ", ".join(f"{n!r}: {em.var(n)}" for n in spec.symbols)
    symmetric = tuple(n for n in spec.symbols if spec.symbols[n].symmetric)
    first = spec.derivative_index
    return f'''def check_gradient({params}, *, _seed=0, _step=1e-6):
    """Compare each first derivative with central differences of f along a random
    direction v: (f(x + hv) − f(x − hv)) / 2h against the derivative applied to v, h = _step.
    Returns the largest relative error (float64 inputs give about 1e-8 or less).
    (Its own names start with _, so no symbol of yours is shadowed.)"""
    import numpy as _np
    _rng = _np.random.default_rng(_seed)
    _args = {{{names}}}
    _args = {{_k: _np.asarray(_a, dtype=float) for _k, _a in _args.items()}}
    _out = f_and_g(*_args.values())
    _worst = 0.0
    for _name, _at in zip(WRT, {tuple(first)!r}):
        _derivative = _np.asarray(_pick(_out, _at), dtype=float)
        _v = _rng.standard_normal(_args[_name].shape)
        if _name in {symmetric!r}:
            _v = (_v + _v.T) / 2
        _plus = dict(_args, **{{_name: _args[_name] + _step * _v}})
        _minus = dict(_args, **{{_name: _args[_name] - _step * _v}})
        _numeric = (_np.asarray(_pick(f_and_g(*_plus.values()), (0,)), dtype=float) -
                    _np.asarray(_pick(f_and_g(*_minus.values()), (0,)), dtype=float)) / (2 * _step)
        _analytic = _np.tensordot(_derivative, _v, axes=_v.ndim)
        _scale = max(1.0, float(_np.max(_np.abs(_numeric))), float(_np.max(_np.abs(_analytic))))
        _worst = max(_worst, float(_np.max(_np.abs(_numeric - _analytic))) / _scale)
    return _worst


def _pick(out, at):
    for i in at:
        out = out[i]
    return out
'''


def _main(spec: Spec, em: Emitter) -> str:
    dims, k = {}, 3
    lines = ["", "", 'if __name__ == "__main__":', "    import numpy",
             "    rng = numpy.random.default_rng(0)"]
    if em.backend.name == "jax":
        lines.insert(4, '    jax.config.update("jax_enable_x64", True)   # float64 for the check')
    for name, sym in spec.symbols.items():
        shape = []
        for d in sym.shape:
            if isinstance(d, int):
                shape.append(d)
            else:
                total = 1
                for part in str(d).split("·"):
                    if part.isdigit():
                        total *= int(part)
                    else:
                        if part not in dims:
                            dims[part] = k
                            k += 1
                        total *= dims[part]
                shape.append(total)
        user = tuple(numpy_shape(tuple(shape))) if shape else ()
        value = f"rng.uniform(0.5, 1.5, {user!r})"
        if len(user) == 2 and user[0] == user[1]:
            value = f"_square({value}, {user[0]}, {sym.symmetric})"
        lines.append(f"    {em.var(name)} = {value}")
    lines.insert(4, "    def _square(a, n, symmetric):   # invertible, det > 0\n"
                 "        a = a + n * numpy.eye(n)\n"
                 "        return (a + a.T) / 2 if symmetric else a\n")
    call = ", ".join(em.var(n) for n in spec.symbols)
    lines.append(f"    print('value:', f_and_g({call})[0])")
    lines.append(f"    print('largest relative error against central differences:', "
                 f"check_gradient({call}))")
    return "\n".join(lines)
