"""CLI latency with the default check — run with:  python benchmarks/cli_latency.py [RUNS]

Each command runs as a fresh process (`python -m matdiff diff …`), alternately with the
default check (the printed result read back and compared with central differences) and
with --no-check, the peer measured in the same process and at the same moments, so the
ratio holds when the shared machine's speed drifts.  Reported per problem: the median
wall and CPU seconds (user + sys of the child, from getrusage) of each, and the median
ratio check/no-check.  Target: a median wall time ≤ 0.3 s on 2 idle cores.

Bytecode is cached (in a temporary PYTHONPYCACHEPREFIX) as an installed package's is, even
where the environment sets PYTHONDONTWRITEBYTECODE: otherwise every run would time
Python compiling matdiff, lark and numpy's sources.
"""
from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CACHE = tempfile.mkdtemp(prefix="matdiff-pycache-")
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
ENV.update(PYTHONPATH=str(ROOT), PYTHONPYCACHEPREFIX=CACHE)
PROBLEMS = [
    ("aᵀXb", "X"),                  # gradient by a matrix
    ("½‖σ(Wx) − y‖²", "W"),         # a neural-network layer
    ("σ(Wx)", "x"),                 # a Jacobian
    ("XᵀX", "X"),                   # a rank-4 Kronecker form
]


def run(argv) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one fresh process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "matdiff", *argv], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL, env=ENV)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main(runs: int = 7) -> None:
    print(f"{'problem':22} {'check wall':>10} {'cpu':>6} {'no-check wall':>13} {'cpu':>6} "
          f"{'ratio':>6}")
    for expr, wrt in PROBLEMS:
        argv = ["diff", expr, "--wrt", wrt]
        run(argv)   # warm-up (lark's grammar cache, the OS file cache)
        checked, bare, ratios = [], [], []
        for _ in range(runs):
            a, b = run(argv), run(argv + ["--no-check"])
            checked.append(a)
            bare.append(b)
            ratios.append(a[0] / b[0])
        med = lambda xs, i: statistics.median(x[i] for x in xs)  # noqa: E731
        print(f"{expr + ' by ' + wrt:22} {med(checked, 0):10.3f} {med(checked, 1):6.3f} "
              f"{med(bare, 0):13.3f} {med(bare, 1):6.3f} {statistics.median(ratios):6.2f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 7)
