"""Stage 5 — verify: an independent numerical oracle for every derivative.

Two checks, both independent of the differentiation rules:

* **sympy, elementwise** (default): every dimension gets a small *distinct* size
  (2, 3, 4, …, so that a missing transpose becomes a visible error); the variable becomes
  an explicit matrix of scalar sympy symbols (one symbol per pair for a symmetric matrix);
  the other symbols get random values; sympy differentiates the scalar entry by entry;
  the claimed gradient is evaluated with numpy at the same point; both are compared.
* **central differences**: the expression itself is evaluated with numpy at x ± h·eᵢⱼ,
  which covers larger sizes cheaply.

Values are domain-valid: entries are positive and square matrices are diagonally
dominant (invertible, positive determinant, not symmetric unless declared so).
A point where the expression is undefined is re-drawn with the next seed.
This module imports sympy only when a sympy check runs.
"""
from __future__ import annotations

import signal
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import singledispatch

import numpy as np

from ..core.errors import MatdiffError, NoRuleError, VerificationError
from ..core.nodes import (
    Add,
    Commutation,
    Const,
    Det,
    DiagMat,
    DiagVec,
    DimSize,
    ElemDiv,
    ElemPower,
    Expr,
    Func,
    Hadamard,
    Identity,
    Inverse,
    Kron,
    LogDet,
    LogSumExp,
    LogSumExpRows,
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
    symbols_of,
    walk,
)
from ..core.shapes import numpy_shape
from .evaluate import evaluate, node_values


@dataclass
class Check:
    """The outcome of one numerical check."""
    ok: bool
    method: str
    max_error: float
    sizes: dict
    seed: int
    tolerance: float
    expected: np.ndarray | None = field(default=None, repr=False)
    claimed: np.ndarray | None = field(default=None, repr=False)
    entries: int = 0
    note: str = ""
    subject: str = ""   # what was compared, e.g. "the printed gradient, read back"

    def __bool__(self) -> bool:
        return self.ok

    def require(self) -> "Check":
        """Raise a VerificationError (with both values) unless the check passed."""
        if not self.ok:
            from ..core.errors import VerificationError
            raise VerificationError(self.summary())
        return self

    def summary(self) -> str:
        dims = ", ".join(f"{d}={n}" for d, n in self.sizes.items()) or "no dimensions"
        how = "elementwise sympy derivatives" if self.method == "sympy" else \
            "central differences"
        verdict = "passed" if self.ok else "FAILED"
        subject = f" ({self.subject})" if self.subject else ""
        entries = "1 entry" if self.entries == 1 else f"{self.entries} entries"
        text = (f"check {verdict}{subject}: {entries} compared with {how} at {dims} "
                f"(seed {self.seed}); max error {self.max_error:.2e}")
        if self.note:
            text += f"\n  {self.note}"
        if not self.ok and self.expected is not None and self.claimed is not None:
            text += (f"\n  expected:\n{_indent(self.expected)}\n  claimed:\n"
                     f"{_indent(self.claimed)}")
        return text

    def to_dict(self) -> dict:
        return {"passed": self.ok, "method": self.method, "max_error": self.max_error,
                "sizes": self.sizes, "seed": self.seed, "entries": self.entries,
                "checked": self.subject}


def _indent(a) -> str:
    return "\n".join("    " + line for line in np.array2string(np.asarray(a), precision=6)
                     .splitlines())


# ----- sizes and points ------------------------------------------------------------------

def choose_sizes(exprs: list[Expr], wrt: Symbol, start: int = 2,
                 fixed: dict | None = None) -> dict:
    """Distinct small sizes for every symbolic dimension, the variable's first."""
    dims: list[str] = []
    for sym in [wrt] + [s for e in exprs for s in symbols_of(e).values()]:
        for d in sym.shape:
            if isinstance(d, str) and d not in dims:
                dims.append(d)
    for e in exprs:   # sizes only a constant names (the 𝟏𝟏ᵀ of a mixed Hessian, I, tr(I))
        for node in walk(e):
            for d in _constant_dims(node):
                if d not in dims:
                    dims.append(d)
    sizes = dict(fixed or {})
    n = start
    for d in dims:
        if d in sizes:
            continue
        while n in sizes.values():
            n += 1
        sizes[d] = n
        n += 1
    return sizes


def _constant_dims(node: Expr) -> list[str]:
    found = {Ones: lambda n: n.shape_ or (), Zero: lambda n: n.shape_,
             Identity: lambda n: (n.n,), DimSize: lambda n: (n.dim,)}.get(type(node))
    if found is None:
        return []
    return [p for d in found(node) if isinstance(d, str) for p in d.split("·")
            if not p.isdigit()]


def concrete(shape, sizes) -> tuple:
    from .evaluate import _dim   # a product of sizes, 'm·n', as a vec or ⊗ has
    return tuple(_dim(d, sizes) for d in shape)


def random_value(sym: Symbol, sizes: dict, rng: np.random.Generator) -> np.ndarray:
    shape = concrete(sym.shape, sizes)
    if shape == ():
        return np.asarray(rng.uniform(0.5, 1.5))
    value = rng.uniform(0.2, 1.2, size=shape)
    if shape[0] == shape[1] and shape[0] > 1:
        value = rng.uniform(0.05, 0.5, size=shape) + shape[0] * np.eye(shape[0])
    if sym.symmetric:
        value = (value + value.T) / 2
    if sym.probability:   # a probability vector: positive entries that sum to 1
        value = value / value.sum()
    return value


def random_point(symbols: dict[str, Symbol], sizes: dict, seed: int) -> dict:
    rng = np.random.default_rng(seed)   # one generator for all symbols
    return {name: random_value(sym, sizes, rng) for name, sym in symbols.items()}


def _user(value: np.ndarray, shape) -> np.ndarray:
    return value.reshape(-1) if shape != () and shape[1] == 1 else value


# ----- the sympy oracle -----------------------------------------------------------------

SYMPY_BUDGET_SECONDS = 10.0


class _OverBudget(BaseException):   # not an Exception: no `except Exception` in sympy swallows it
    pass


@contextmanager
def _time_budget(seconds: float | None):
    """Interrupt the block after ``seconds`` of wall clock: with a POSIX interval timer in
    the main thread, with an exception raised asynchronously into any other thread."""
    if seconds is None or seconds == float("inf"):
        yield
        return
    if threading.current_thread() is not threading.main_thread() or \
            not hasattr(signal, "setitimer"):
        with _thread_budget(seconds):
            yield
        return

    armed = [True]

    def stop(signum, frame):
        if armed[0]:
            raise _OverBudget

    previous = signal.signal(signal.SIGALRM, stop)
    # then again every 0.1 s: an interrupt that lands in a __del__ or a GC callback is
    # swallowed there ("Exception ignored in ..."), and a one-shot timer left sympy unbounded
    old_delay, _ = signal.setitimer(signal.ITIMER_REAL, seconds, 0.1)
    started = time.monotonic()
    try:
        yield
    finally:
        while armed[0]:
            try:             # an interrupt arriving here, before disarming, is dropped
                armed[0] = False
            except _OverBudget:
                pass
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if old_delay:   # someone else's timer: give it back what is left
            signal.setitimer(signal.ITIMER_REAL,
                             max(old_delay - (time.monotonic() - started), 1e-3))


@contextmanager
def _thread_budget(seconds: float):
    """The budget outside the main thread (threads of a web server or a notebook's
    executor): a watchdog raises _OverBudget into this thread after ``seconds`` and again
    every 0.1 s until the block has ended (the interpreter delivers it between bytecodes,
    and sympy is pure Python); an undelivered one is cancelled on the way out."""
    import ctypes
    target, lock, done = threading.get_ident(), threading.Lock(), threading.Event()
    armed = [True]

    def interrupt(exc) -> None:
        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(target), exc)

    def watchdog() -> None:
        wait = seconds
        while not done.wait(wait):
            with lock:
                if armed[0]:
                    interrupt(ctypes.py_object(_OverBudget))
            wait = 0.1

    dog = threading.Thread(target=watchdog, name="matdiff-sympy-budget", daemon=True)
    dog.start()
    try:
        yield
    finally:
        while armed[0]:
            try:             # an interrupt arriving here, before disarming, is dropped
                with lock:
                    armed[0] = False
                    interrupt(None)   # cancel one raised but not yet delivered
            except _OverBudget:
                pass
        done.set()


def check_with_sympy(f: Expr, wrt: Symbol, gradient: Expr | None = None, *, seed: int = 0,
                     sizes: dict | None = None, claimed=None, second: Symbol | None = None,
                     parameters: bool = False, budget: float | None = None,
                     fallback=None, **options) -> Check:
    """Compare a derivative with sympy's entry-by-entry derivative of f.

    ``gradient`` is a claimed gradient expression; for any other rank pass ``claimed``, a
    function (values, sizes) → numpy array in the order f.shape + wrt.shape (then
    + second.shape for a second derivative).  ``parameters``: the claim already treats each
    symmetric pair as one parameter (the 'symmetric' convention).

    Symbolic inverses and determinants grow fast with the size (a 4×4 det(inv(L)) takes
    minutes), so the sympy check has a wall-clock ``budget`` (seconds; default
    ``SYMPY_BUDGET_SECONDS``; ``math.inf``: unbounded).
    Beyond it the derivative is checked by central differences (``fallback()``, by default
    :func:`check_with_differences` of the same claim) and the Check's note says so.
    """
    budget = SYMPY_BUDGET_SECONDS if budget is None else budget
    try:
        with _time_budget(budget):
            return _check_with_sympy(f, wrt, gradient, seed=seed, sizes=sizes,
                                     claimed=claimed, second=second, parameters=parameters,
                                     **options)
    except _OverBudget:
        pass
    if fallback is None:
        if second is not None:
            raise VerificationError(f"the sympy check of this second derivative exceeded its "
                                    f"{budget:g} s budget; use method='central'")
        def fallback():
            return check_with_differences(f, wrt, gradient, seed=seed, sizes=sizes,
                                          claimed=claimed, parameters=parameters)
    check = fallback()
    note = (f"the elementwise sympy check exceeded its {budget:g} s budget: checked by "
            f"central differences instead")
    check.note = f"{check.note}; {note}" if check.note else note
    return check


def _check_with_sympy(f: Expr, wrt: Symbol, gradient: Expr | None = None, *, seed: int = 0,
                      sizes: dict | None = None, rtol: float = 1e-7, atol: float = 1e-9,
                      attempts: int = 5, claimed=None, second: Symbol | None = None,
                      parameters: bool = False) -> Check:
    exprs = [f] + ([gradient] if gradient is not None else [])
    variables = [wrt] + ([second] if second is not None else [])
    sizes = choose_sizes(exprs + variables, wrt, fixed=sizes)
    symbols = {}
    for e in exprs:
        symbols.update(symbols_of(e))
    for v in variables:
        symbols.setdefault(v.name, v)
    shapes = [concrete(v.shape, sizes) for v in variables]
    entries = {v.name: _entry_symbols(v, s) for v, s in zip(variables, shapes)}
    for attempt in range(attempts):
        point = random_point(symbols, sizes, seed + attempt)
        if kinks_near(exprs, {n: _user(v, symbols[n].shape) for n, v in point.items()},
                      sizes, symbols):
            continue
        env = {name: _sympy_value(point[name]) for name in symbols if name not in entries}
        env.update(entries)
        F = to_sympy(f, env, sizes)
        subs = {}
        for v in variables:
            subs.update(_substitutions(entries[v.name], point[v.name]))
        expected = _derivative_tensor(F, [entries[v.name] for v in variables], shapes, subs)
        if np.all(np.isfinite(expected)):
            break
    else:
        raise MatdiffError(f"no point in {attempts} tries where {f} is defined "
                           f"(seed {seed}): cannot verify")
    values = {n: _user(v, symbols[n].shape) for n, v in point.items()}
    if claimed is None:
        value = _claimed(gradient, wrt, values, sizes, symbols, shapes[0])
    else:
        value = np.asarray(claimed(values, sizes), dtype=float)
        value = value if value.shape == expected.shape else None
    if value is not None and not parameters:
        for v, s, axis in _symmetric_axes(variables, shapes, expected.ndim):
            value = _parameter_axes(value, axis)
    return _compare("sympy", expected, value, sizes, seed + attempt, rtol, atol)


def _symmetric_axes(variables, shapes, ndim):
    """(variable, shape, first axis) of each symmetric matrix variable in the tensor."""
    axis = ndim - sum(len(numpy_shape(s)) for s in shapes)
    out = []
    for v, s in zip(variables, shapes):
        if v.symmetric and len(numpy_shape(s)) == 2:
            out.append((v, s, axis))
        axis += len(numpy_shape(s))
    return out


def _parameter_axes(value: np.ndarray, axis: int) -> np.ndarray:
    """G + Gᵀ − diag(G) over the two axes of a symmetric variable."""
    moved = np.moveaxis(value, (axis, axis + 1), (-2, -1))
    sym = moved + np.swapaxes(moved, -1, -2)
    n = moved.shape[-1]
    sym = sym - moved * np.eye(n)
    return np.moveaxis(sym, (-2, -1), (axis, axis + 1))


def _derivative_tensor(F, entry_sets, shapes, subs) -> np.ndarray:
    """∂F/∂x (then ∂/∂y) entry by entry, evaluated at the point: order F, x, (y)."""
    import sympy as sp
    f_entries = list(F) if isinstance(F, sp.MatrixBase) else [F]
    f_shape = F.shape if isinstance(F, sp.MatrixBase) else ()
    f_shape = () if f_shape == (1, 1) and not isinstance(F, sp.MatrixBase) else f_shape

    def flat(entries, shape):
        return [entries] if shape == () else [entries[i, j] for i in range(shape[0])
                                              for j in range(shape[1])]
    grids = [flat(e, s) for e, s in zip(entry_sets, shapes)]
    out = []
    for fe in f_entries:
        row = []
        for a in grids[0]:
            da = sp.diff(fe, a)
            if len(grids) == 1:
                row.append(_number(da.xreplace(subs)))
            else:
                row.extend(_number(sp.diff(da, b).xreplace(subs)) for b in grids[1])
        out.append(row)
    full = numpy_shape(tuple(f_shape)) + tuple(d for s in shapes for d in numpy_shape(s))
    return np.array(out, dtype=float).reshape(full)


def _claimed(gradient, wrt, values, sizes, symbols, shape):
    """The claimed gradient at the point, or None when its shape is not the variable's."""
    value = np.asarray(evaluate(gradient, values, sizes, symbols), dtype=float)
    if value.shape != (shape or ()) and not (value.shape == () and shape == ()):
        return None
    return value.reshape(numpy_shape(shape))


def _entry_symbols(wrt: Symbol, shape):
    import sympy as sp
    if shape == ():
        return sp.Symbol(f"{wrt.name}", real=True)
    rows, cols = shape

    def entry(i, j):
        if wrt.symmetric and i > j:
            i, j = j, i
        return sp.Symbol(f"{wrt.name}_{i}_{j}", real=True)
    return sp.Matrix(rows, cols, entry)


def _substitutions(entries, value) -> dict:
    import sympy as sp
    if not isinstance(entries, sp.MatrixBase):
        return {entries: sp.Float(float(value), 17)}
    out = {}
    for i in range(entries.rows):
        for j in range(entries.cols):
            out[entries[i, j]] = sp.Float(float(value[i, j]), 17)
    return out


def _sympy_value(value):
    import sympy as sp
    value = np.asarray(value, dtype=float)
    if value.ndim == 0:
        return sp.Float(float(value), 17)
    return sp.Matrix(value.tolist()).applyfunc(lambda v: sp.Float(v, 17))


def _number(v) -> float:
    c = complex(v.evalf(17))
    return c.real if abs(c.imag) < 1e-12 else float("nan")


def _compare(method, expected, claimed, sizes, seed, rtol, atol) -> Check:
    if claimed is None:
        return Check(False, method, float("inf"), sizes, seed, rtol, expected, None,
                     expected.size, "the claimed derivative does not have the expected shape")
    err = np.abs(expected - claimed)
    ok = bool(np.all(err <= atol + rtol * np.abs(expected)))
    return Check(ok, method, float(err.max()) if err.size else 0.0, sizes, seed, rtol,
                 expected, claimed, expected.size)


# ----- central differences ----------------------------------------------------------------

def check_with_differences(f: Expr, wrt: Symbol, gradient: Expr | None = None, *,
                           seed: int = 0, sizes: dict | None = None, start: int = 3,
                           h: float = 1e-6, rtol: float = 1e-5, atol: float = 1e-7,
                           claimed=None, parameters: bool = False) -> Check:
    """Compare a derivative with central differences of f (numpy only), any rank."""
    exprs = [f] + ([gradient] if gradient is not None else [])
    sizes = choose_sizes(exprs, wrt, start=start, fixed=sizes)
    symbols = {}
    for e in exprs:
        symbols.update(symbols_of(e))
    symbols.setdefault(wrt.name, wrt)
    for attempt in range(5):
        check = _central(f, wrt, symbols, sizes, seed + attempt, h, rtol, atol, claimed,
                         gradient, parameters)
        if check is not None:
            return check
    raise MatdiffError(f"no point in 5 tries where {f} and its derivative are finite "
                       f"(seed {seed}): cannot verify")


def _central(f, wrt, symbols, sizes, seed, h, rtol, atol, claimed, gradient, parameters):
    """One central-difference comparison, or None where the values are not finite."""
    point = random_point(symbols, sizes, seed)
    values = {n: _user(v, symbols[n].shape) for n, v in point.items()}
    if kinks_near([f], values, sizes, symbols):
        return None
    shape = concrete(wrt.shape, sizes)
    x0 = np.asarray(point[wrt.name], dtype=float)
    f_shape = concrete(f.shape, sizes)
    expected = np.zeros(numpy_shape(f_shape) + shape)
    largest = 0.0   # |f| near the point: central differences lose about ε|f|/h to rounding
    for idx in np.ndindex(*shape):
        step = np.zeros(shape or ())
        step[idx] = h
        if wrt.symmetric and idx[0] != idx[1]:
            step[idx[::-1]] = h
        plus = evaluate(f, {**values, wrt.name: _user(x0 + step, wrt.shape)}, sizes, symbols)
        minus = evaluate(f, {**values, wrt.name: _user(x0 - step, wrt.shape)}, sizes, symbols)
        with np.errstate(all="ignore"):
            diff = (np.asarray(plus, dtype=float) - np.asarray(minus, dtype=float)) / (2 * h)
            largest = max(largest, float(np.max(np.abs(plus))), float(np.max(np.abs(minus))))
        expected[(Ellipsis,) + idx] = diff.reshape(numpy_shape(f_shape))
    expected = expected.reshape(numpy_shape(f_shape) + numpy_shape(shape))
    if claimed is None:
        value = _claimed(gradient, wrt, values, sizes, symbols, shape)
    else:
        value = np.asarray(claimed(values, sizes), dtype=float)
        value = value if value.shape == expected.shape else None
    if not np.all(np.isfinite(expected)) or (value is not None and
                                             not np.all(np.isfinite(value))):
        return None
    eps = np.finfo(float).eps
    atol = atol + max(100 * eps * largest, 8 * eps * _largest_term(f, values, sizes, symbols)) / h
    if value is not None and not parameters and wrt.symmetric and len(numpy_shape(shape)) == 2:
        value = _parameter_axes(value, value.ndim - 2)
    return _compare("central", expected, value, sizes, seed, rtol, atol)


def _largest_term(f: Expr, values: dict, sizes: dict, symbols: dict) -> float:
    """The largest |value| of any term of any sum in f: where large terms cancel (a
    derivative that is 0 written as a − a), central differences of f lose ε·|term|/h to
    rounding, not ε·|f|/h."""
    value = node_values(f, values, sizes, symbols)
    largest = 0.0
    for node in walk(f):
        if isinstance(node, Add):
            for term in node.terms:
                v = np.abs(np.asarray(value[id(term)], dtype=float))
                if v.size and np.all(np.isfinite(v)):
                    largest = max(largest, float(np.max(v)))
    return largest


# ----- nodes as explicit sympy matrices ----------------------------------------------------

@singledispatch
def to_sympy(e: Expr, env: dict, sizes: dict):
    """e with every symbol an explicit sympy matrix (scalars as sympy expressions)."""
    raise NoRuleError(f"verify: no sympy rule for {type(e).__name__}")


def _sp():
    import sympy
    return sympy


def _n(d, sizes):
    return d if isinstance(d, int) else sizes[d]


def _is_matrix(v) -> bool:
    return isinstance(v, _sp().MatrixBase)


def _scalar(v):
    return v[0, 0] if _is_matrix(v) and v.shape == (1, 1) else v


@to_sympy.register
def _(e: Symbol, env, sizes):
    return env[e.name]


@to_sympy.register
def _(e: Const, env, sizes):
    return _sp().Rational(e.value.numerator, e.value.denominator)


@to_sympy.register
def _(e: Identity, env, sizes):
    return _sp().eye(_n(e.n, sizes))


@to_sympy.register
def _(e: Zero, env, sizes):
    return _sp().zeros(*concrete(e.shape_, sizes)) if e.shape_ else _sp().Integer(0)


@to_sympy.register
def _(e: Ones, env, sizes):
    return _sp().ones(*concrete(e.shape_, sizes))


@to_sympy.register
def _(e: DimSize, env, sizes):
    return _sp().Integer(_n(e.dim, sizes))


@to_sympy.register
def _(e: Add, env, sizes):
    parts = [to_sympy(t, env, sizes) for t in e.terms]
    mats = [p for p in parts if _is_matrix(p)]
    total = sum((p for p in parts if not _is_matrix(p)), _sp().Integer(0))
    if not mats:
        return total
    out = mats[0]
    for m in mats[1:]:
        out = out + m
    return out.applyfunc(lambda v: v + total)


@to_sympy.register
def _(e: Mul, env, sizes):
    scale, chain = _sp().Integer(1), None
    for f in e.factors:
        v = to_sympy(f, env, sizes)
        if not _is_matrix(v):
            scale = scale * v
        else:
            chain = v if chain is None else chain * v
    if chain is None:
        return scale
    return _scalar(chain) * scale if chain.shape == (1, 1) else chain * scale


def _elementwise(parts, op):
    mats = [p for p in parts if _is_matrix(p)]
    if not mats:
        return op(*parts)
    shape = mats[0].shape
    full = [p if _is_matrix(p) else _sp().ones(*shape) * p for p in parts]
    return _sp().Matrix(shape[0], shape[1],
                        lambda i, j: op(*[p[i, j] for p in full]))


@to_sympy.register
def _(e: Hadamard, env, sizes):
    import math
    return _elementwise([to_sympy(f, env, sizes) for f in e.factors],
                        lambda *v: math.prod(v))


@to_sympy.register
def _(e: ElemDiv, env, sizes):
    return _elementwise([to_sympy(e.num, env, sizes), to_sympy(e.den, env, sizes)],
                        lambda a, b: a / b)


@to_sympy.register
def _(e: Power, env, sizes):
    b = to_sympy(e.base, env, sizes)
    k = _sp().Rational(e.exponent.numerator, e.exponent.denominator)
    return b ** int(k) if _is_matrix(b) else b ** k


@to_sympy.register
def _(e: Transpose, env, sizes):
    return to_sympy(e.arg, env, sizes).T


@to_sympy.register
def _(e: Inverse, env, sizes):
    m = to_sympy(e.arg, env, sizes)
    return m.adjugate() / m.det(method="berkowitz") if m.free_symbols else m.inv()


@to_sympy.register
def _(e: Trace, env, sizes):
    return to_sympy(e.arg, env, sizes).trace()


@to_sympy.register
def _(e: Det, env, sizes):
    return to_sympy(e.arg, env, sizes).det(method="berkowitz")


@to_sympy.register
def _(e: LogDet, env, sizes):
    return _sp().log(to_sympy(e.arg, env, sizes).det(method="berkowitz"))


_SYMPY_FUNCS = {"exp": "exp", "log": "log", "sin": "sin", "cos": "cos", "tanh": "tanh",
                "sqrt": "sqrt", "tan": "tan", "arcsin": "asin", "arccos": "acos",
                "arctan": "atan", "abs": "Abs", "sign": "sign"}
_SYMPY_LAMBDAS = {   # the elementwise functions sympy has under another form
    "sigmoid": lambda sp: lambda u: 1 / (1 + sp.exp(-u)),
    "relu": lambda sp: lambda u: sp.Max(0, u),
    "step": lambda sp: lambda u: sp.Heaviside(u, 0),
    "softplus": lambda sp: lambda u: sp.log(1 + sp.exp(u)),
}


@to_sympy.register
def _(e: Func, env, sizes):
    sp = _sp()
    f = _SYMPY_LAMBDAS[e.name](sp) if e.name in _SYMPY_LAMBDAS else \
        getattr(sp, _SYMPY_FUNCS[e.name])
    v = to_sympy(e.arg, env, sizes)
    return v.applyfunc(f) if _is_matrix(v) else f(v)


@to_sympy.register
def _(e: Sum, env, sizes):
    return sum(to_sympy(e.arg, env, sizes))


@to_sympy.register
def _(e: DiagMat, env, sizes):
    v = to_sympy(e.arg, env, sizes)
    return _sp().diag(*list(v))


@to_sympy.register
def _(e: DiagVec, env, sizes):
    m = to_sympy(e.arg, env, sizes)
    return _sp().Matrix([m[i, i] for i in range(m.rows)])


@to_sympy.register
def _(e: Norm, env, sizes):
    v = to_sympy(e.arg, env, sizes)
    return _sp().sqrt(sum(x ** 2 for x in v))


@to_sympy.register
def _(e: Kron, env, sizes):
    from sympy import kronecker_product
    a, b = (v if _is_matrix(v) else _sp().Matrix([[v]])
            for v in (to_sympy(e.left, env, sizes), to_sympy(e.right, env, sizes)))
    return kronecker_product(a, b)


@to_sympy.register
def _(e: Commutation, env, sizes):
    from .evaluate import _dim, commutation
    return _sp().Matrix(commutation(_dim(e.m, sizes), _dim(e.n, sizes)).astype(int).tolist())


@to_sympy.register
def _(e: Vec, env, sizes):
    m = to_sympy(e.arg, env, sizes)
    return _sp().Matrix([m[i, j] for j in range(m.cols) for i in range(m.rows)])


@to_sympy.register
def _(e: Softmax, env, sizes):
    u = to_sympy(e.arg, env, sizes)
    total = sum(_sp().exp(v) for v in u)
    return u.applyfunc(lambda v: _sp().exp(v) / total)


@to_sympy.register
def _(e: LogSumExp, env, sizes):
    return _sp().log(sum(_sp().exp(v) for v in to_sympy(e.arg, env, sizes)))


@to_sympy.register
def _(e: ElemPower, env, sizes):
    p = to_sympy(e.exponent, env, sizes)
    return _elementwise([to_sympy(e.base, env, sizes), p], lambda b, k: b ** k)


@to_sympy.register
def _(e: SoftmaxRows, env, sizes):
    X = to_sympy(e.arg, env, sizes)
    sp = _sp()
    totals = [sum(sp.exp(X[i, k]) for k in range(X.cols)) for i in range(X.rows)]
    return sp.Matrix(X.rows, X.cols, lambda i, j: sp.exp(X[i, j]) / totals[i])


@to_sympy.register
def _(e: LogSumExpRows, env, sizes):
    X = to_sympy(e.arg, env, sizes)
    sp = _sp()
    return sp.Matrix([sp.log(sum(sp.exp(X[i, k]) for k in range(X.cols)))
                      for i in range(X.rows)])


# ----- points away from kinks ------------------------------------------------------------

def kinks_near(exprs, values: dict, sizes: dict, symbols: dict,
               margin: float = 0.05) -> bool:
    """True when an argument of relu, abs, sign or step is within ``margin`` of 0, or one of
    arcsin/arccos within ``margin`` of ±1, at this point: derivatives there are one-sided
    (or infinite), so the verifier draws another point."""
    from ..core.nodes import KINKED
    for e in exprs:
        for node in walk(e):
            if not isinstance(node, Func):
                continue
            edge = 0.0 if node.name in KINKED else 1.0 if node.name in ("arcsin", "arccos") \
                else None
            if edge is None:
                continue
            u = np.abs(np.asarray(evaluate(node.arg, values, sizes, symbols), dtype=float))
            if np.any(np.abs(u - edge) < margin) or (edge == 1.0 and np.any(u > 1)):
                return True
    return False
