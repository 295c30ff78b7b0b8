"""Search random Hessians for slow or long ones — run with:

    python benchmarks/hessian_search.py [EXAMPLES]     # default 1500 drawn inputs

The inputs are the fuzzer's depth-3 scalar expressions (tests/fuzzing.py, up to ~60
characters, the size an independent tester reported Hessians taking 14–17 s or printing
13,000 characters for), drawn deterministically; each Hessian by one of B, A, x, S that
occurs is derived and printed (Unicode, shared names as the CLI prints them).  Reported:
how many, the median and maximum time, the longest printed result, and the five slowest.
Times are wall seconds on this machine: compare runs on the same machine only.
"""
from __future__ import annotations

import statistics
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
warnings.filterwarnings("ignore")

from fuzzing import DECLARATIONS, problem  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import matdiff  # noqa: E402
from matdiff.core.nodes import symbols_of  # noqa: E402


def search(examples: int) -> list[tuple[float, int, str, str]]:
    rows = []

    @settings(max_examples=examples, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(problem("s", 3), st.sampled_from(["B", "A", "x", "S"]))
    def one(p, wrt):
        text, _ = p
        try:
            if wrt not in symbols_of(matdiff.parse(text, shapes=DECLARATIONS)):
                return
            start = time.perf_counter()
            printed = matdiff.hessian(text, wrt, shapes=DECLARATIONS).pretty()
        except matdiff.MatdiffError:
            return
        rows.append((time.perf_counter() - start, len(printed), text, wrt))

    one()
    return rows


def main() -> None:
    examples = int(sys.argv[1]) if len(sys.argv) > 1 else 1500
    rows = search(examples)
    times = [r[0] for r in rows]
    print(f"{len(rows)} Hessians from {examples} drawn inputs: median {statistics.median(times):.3f} s, "
          f"max {max(times):.2f} s; longest result {max(r[1] for r in rows)} characters")
    for t, chars, text, wrt in sorted(rows, reverse=True)[:5]:
        print(f"  {t:6.2f} s {chars:6d} chars  ∂²/∂{wrt}²  {text}")


if __name__ == "__main__":
    main()
