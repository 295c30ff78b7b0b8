"""Depth benchmark: derive + print ∂ sum(tanh(tanh(…tanh(x)…)))/∂x at growing depth.

Prints, for each depth n, the best time (derive + print, of ``--repeat`` runs), the time
per level, and the local growth exponent log(t₂/t₁)/log(n₂/n₁) (1 = linear), then the
deepest nesting that derives (the documented limit).  Run from the repository root:

    python benchmarks/depth.py            # depths 250 … 8000
    python benchmarks/depth.py --max 4000 # a quicker run
"""
from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import matdiff  # noqa: E402


def tanh_chain(depth: int) -> str:
    return "sum(" + "tanh(" * depth + "x" + ")" * depth + ")"


def derive_and_print(depth: int) -> tuple[float, int]:
    start = time.perf_counter()
    printed = matdiff.diff(tanh_chain(depth), "x").pretty()
    return time.perf_counter() - start, len(printed)


def best_of(depth: int, repeat: int) -> tuple[float, int]:
    runs = [derive_and_print(depth) for _ in range(repeat)]
    return min(r[0] for r in runs), runs[0][1]


def deepest(limit: int) -> tuple[int, str]:
    """The deepest power-of-two-ish depth ≤ limit that derives, and how the next fails."""
    ok, n = 0, 1000
    while n <= limit:
        try:
            derive_and_print(n)
            ok = n
        except matdiff.MatdiffError as e:
            return ok, f"depth {n}: {type(e).__name__}: {e}"
        n *= 2
    return ok, f"not tried beyond {limit}"


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--max", type=int, default=8000)
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args(argv)
    depths = [n for n in (250, 500, 1000, 2000, 4000, 8000, 16000) if n <= args.max]
    print(f"{'depth':>7} {'time':>10} {'per level':>11} {'chars':>9} {'exponent':>9}")
    previous = None
    for n in depths:
        try:
            t, chars = best_of(n, args.repeat)
        except matdiff.MatdiffError as e:
            print(f"{n:7d} fails: {e}")
            break
        exponent = "" if previous is None else \
            f"{math.log(t / previous[1]) / math.log(n / previous[0]):9.2f}"
        print(f"{n:7d} {t * 1e3:8.0f}ms {t / n * 1e6:9.0f}µs {chars:9d} {exponent}")
        previous = (n, t)
    ok, why = deepest(4 * args.max)
    print(f"deepest nesting that derives (doubling from 1000): {ok}; next: {why}")


if __name__ == "__main__":
    main()
