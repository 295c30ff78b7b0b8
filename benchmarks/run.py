"""matdiff benchmarks — run with:  python benchmarks/run.py

1. Derivation time against SymPy's MatrixSymbol.diff, in this process, on every identity
   of identities/gradients.toml that SymPy's matrix expressions can state.  matdiff is
   timed from the *text* (parse, shapes, differentiate, simplify); SymPy from a prebuilt
   expression.  Each SymPy result is also checked numerically against matdiff's verified
   gradient, to count SymPy's wrong answers.  (Gradients only: identities/gradients.toml.)
2. End-to-end CLI latency (`python -m matdiff diff …`), a fresh process each run.
3. The identity library check (derive + compare + sympy verifier for every entry).
4. Scaling: derivation time and printed size against the number of terms of a sum and
   the depth of a nested composition sum(tanh(tanh(…tanh(x)…))).
"""
from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import sympy as sp  # noqa: E402

import matdiff  # noqa: E402
from matdiff.core.nodes import (  # noqa: E402
    Add,
    Const,
    Det,
    Func,
    Identity,
    Inverse,
    LogDet,
    Mul,
    Power,
    Symbol,
    Trace,
    Transpose,
)
from matdiff.identities import check_identity, load  # noqa: E402


class Unsupported(Exception):
    pass


def to_matexpr(e, sizes):
    """matdiff tree → SymPy matrix expression with concrete sizes (or Unsupported)."""
    def size(d):
        return d if isinstance(d, int) else sizes[d]
    match e:
        case Symbol(name=n, shape_=()):
            return sp.Symbol(n)
        case Symbol(name=n, shape_=(r, c)):
            return sp.MatrixSymbol(n, size(r), size(c))
        case Const(value=v):
            return sp.Rational(v.numerator, v.denominator)
        case Identity(n=n):
            return sp.Identity(size(n))
        case Add(terms=ts):
            return sp.Add(*[to_matexpr(t, sizes) for t in ts]) if all(
                t.shape == () for t in ts) else sp.MatAdd(*[to_matexpr(t, sizes) for t in ts])
        case Mul(factors=fs):
            parts = [to_matexpr(f, sizes) for f in fs]
            out = parts[0]
            for p in parts[1:]:
                out = out * p
            return out
        case Transpose(arg=a):
            return to_matexpr(a, sizes).T
        case Inverse(arg=a):
            return sp.Inverse(to_matexpr(a, sizes))
        case Power(base=b, exponent=k) if k.denominator == 1:
            return to_matexpr(b, sizes) ** int(k)
        case Trace(arg=a):
            return sp.Trace(to_matexpr(a, sizes))
        case Det(arg=a):
            return sp.Determinant(to_matexpr(a, sizes))
        case LogDet(arg=a):
            return sp.log(sp.Determinant(to_matexpr(a, sizes)))
        case Func(name="log", arg=Det() as a):
            return sp.log(to_matexpr(a, sizes))
    raise Unsupported(type(e).__name__)


def fresh_diff(entry):
    """matdiff from the text, with its memo tables emptied first (no help from repeats)."""
    from matdiff.calculus.diff import _has_differential
    from matdiff.calculus.simplify import transposes
    _has_differential.cache_clear()
    transposes.cache_clear()
    return matdiff.diff(entry.expr, entry.wrt, shapes=entry.let)


def best_of(fn, repeat=5):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def sympy_value(result, symbols, values, sizes):
    """SymPy's result at the point; array expressions go through SymPy's own converter."""
    from sympy.tensor.array.expressions import convert_array_to_matrix
    if isinstance(result, sp.Derivative) or type(result).__name__ == "ArrayDerivative":
        raise Unsupported("unevaluated Derivative")
    if not isinstance(result, (sp.MatrixExpr, sp.Expr)) or type(result).__module__.startswith(
            "sympy.tensor"):
        result = convert_array_to_matrix(result)
        if type(result).__module__.startswith("sympy.tensor"):
            raise Unsupported(f"array expression {type(result).__name__}")
    subs = {}
    for name, sym in symbols.items():
        v = np.asarray(values[name], dtype=float)
        if sym.shape == ():
            subs[sp.Symbol(name)] = float(v)
        else:
            r, c = (sizes.get(d, d) for d in sym.shape)
            subs[sp.MatrixSymbol(name, r, c)] = sp.Matrix(v.reshape(r, c))
    value = result.subs(subs).doit()
    return np.array(sp.Matrix(value).evalf(), dtype=float) if hasattr(value, "shape") \
        else np.array(float(value))


def derivation_benchmark():
    from matdiff.check.evaluate import evaluate
    from matdiff.check.verifier import _user, choose_sizes, random_point
    rows = []
    for entry in load("gradients"):
        d = matdiff.diff(entry.expr, entry.wrt, shapes=entry.let)
        if any(s.symmetric for s in d.symbols.values()):
            continue
        sizes = choose_sizes([d.expr], d.wrt, start=3)
        try:
            expr = to_matexpr(d.expr, sizes)
        except Unsupported:
            continue
        var = to_matexpr(d.wrt, sizes)
        t_ours, _ = best_of(lambda: fresh_diff(entry))
        try:
            t_sympy, result = best_of(lambda: expr.diff(var), repeat=3)
        except Exception as exc:   # SymPy raises on some inputs
            rows.append((entry.id, t_ours, None, f"raises {type(exc).__name__}"))
            continue
        point = random_point(d.symbols, sizes, 0)
        values = {n: _user(v, d.symbols[n].shape) for n, v in point.items()}
        truth = np.asarray(evaluate(d.result, values, sizes, d.symbols), dtype=float)
        try:
            got = sympy_value(result, d.symbols, values, sizes).reshape(truth.shape)
            verdict = "right" if np.allclose(got, truth, rtol=1e-8, atol=1e-10) else \
                f"WRONG: {result}"
        except Unsupported as exc:
            verdict = f"unusable: {exc}"
        rows.append((entry.id, t_ours, t_sympy, verdict))
    return rows


def cli_latency(runs=7):
    """Median and best wall time of the CLI, and of the bare interpreter beside it."""
    def median_of(cmd):
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            subprocess.run(cmd, check=True, capture_output=True)
            times.append(time.perf_counter() - start)
        return statistics.median(times), min(times)
    cli = median_of([sys.executable, "-m", "matdiff", "diff", "(x − As)ᵀW(x − As)", "--wrt",
                     "s", "--let", "W: symmetric"])
    bare = median_of([sys.executable, "-c", "pass"])
    return cli, bare


def scaling():
    """(label, size, seconds, printed characters) for sums of n terms and chains of depth n."""
    rows = []
    for n in (10, 100, 1000):
        text = " + ".join(f"x_{i}ᵀAx" for i in range(n))
        rows.append(("terms", n) + timed(text, "x"))
    for n in (10, 50, 100, 200, 400):
        text = "sum(" + "tanh(" * n + "x" + ")" * n + ")"
        rows.append(("depth", n) + timed(text, "x"))
    return rows


def timed(text, wrt):
    best = float("inf")
    for _ in range(3):
        from matdiff.calculus.diff import _has_differential
        from matdiff.calculus.simplify import transposes
        _has_differential.cache_clear()
        transposes.cache_clear()
        start = time.perf_counter()
        printed = matdiff.diff(text, wrt).pretty()
        best = min(best, time.perf_counter() - start)
    return best, len(printed)


def main():
    rows = derivation_benchmark()
    print(f"{'identity':28} {'matdiff':>10} {'sympy':>10} {'ratio':>8}  sympy's answer")
    timed = [r for r in rows if r[2] is not None]
    for ident, ours, theirs, verdict in rows:
        ratio = f"{theirs / ours:7.1f}×" if theirs else "     —"
        theirs_ms = f"{theirs * 1e3:8.2f}ms" if theirs else "         —"
        print(f"{ident:28} {ours * 1e3:8.2f}ms {theirs_ms} {ratio}  {verdict}")
    total_ours = sum(r[1] for r in timed)
    total_sympy = sum(r[2] for r in timed)
    ratios = [r[2] / r[1] for r in timed]
    wrong = [r[0] for r in rows if r[3] != "right"]
    silent = [r[0] for r in rows if r[3].startswith("WRONG")]
    print(f"\nderivation: {len(timed)} identities both can state; matdiff {total_ours * 1e3:.1f} ms, "
          f"SymPy {total_sympy * 1e3:.1f} ms in all: SymPy/matdiff = {total_sympy / total_ours:.1f}× "
          f"(median per identity {statistics.median(ratios):.1f}×)")
    print(f"SymPy's answer is wrong or unusable on {len(wrong)} of {len(rows)}; silently wrong "
          f"(a number, but not the derivative) on {len(silent)}: {', '.join(silent)}")
    (median, best), (bare, _) = cli_latency()
    print(f"CLI end to end: median {median:.3f} s, best {best:.3f} s "
          f"(python -m matdiff diff '(x − As)ᵀW(x − As)' --wrt s); the bare interpreter "
          f"alone: median {bare:.3f} s, so matdiff's own share is {median - bare:.3f} s")
    print("\nscaling (derive + print, best of 3):")
    for label, n, seconds, chars in scaling():
        what = f"sum of {n} terms" if label == "terms" else f"tanh nested {n} deep"
        print(f"  {what:24} {seconds * 1e3:8.1f} ms {chars:8d} characters printed")
    start = time.perf_counter()
    outcomes = [check_identity(e) for e in load()]
    elapsed = time.perf_counter() - start
    exact = sum(o.exact for o in outcomes)
    passed = sum(o.passed for o in outcomes)
    print(f"identities: {passed}/{len(outcomes)} pass (value, printed size, sympy verifier); "
          f"{exact} print exactly as the source; {elapsed:.1f} s in all")


if __name__ == "__main__":
    main()
