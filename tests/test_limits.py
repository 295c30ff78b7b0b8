"""Limits: deep nesting, long sums and nested compositions give a result or a clear
MatdiffError — never a RecursionError, a hang or a crash — and shared subexpressions
keep the printed size linear in the depth."""
import time

import pytest

import matdiff
from helpers import node_reads


def test_ten_thousand_nested_parentheses():
    d = matdiff.diff("(" * 10_000 + "xᵀx" + ")" * 10_000, "x")
    assert d.pretty() == "2x" and d.verify().ok


def test_thousand_term_sums():
    d = matdiff.diff(" + ".join(["aᵀx"] * 1000), "x")
    assert d.pretty() == "1000a" and d.verify().ok
    d = matdiff.diff(" + ".join(f"x_{i}ᵀx" for i in range(1000)), "x")
    assert d.verify(method="central").ok


def test_nesting_beyond_the_budget_is_a_matdiff_error():
    with pytest.raises(matdiff.MatdiffError, match="nested too deeply"):
        matdiff.diff("sum(" + "tanh(" * 30_000 + "x" + ")" * 30_000 + ")", "x")


# The documented limit (README, measured by benchmarks/depth.py): nested compositions
# derive to depth 4,000; depth 8,000 is a MatdiffError, never a crash.
DOCUMENTED_DEPTH, FAILING_DEPTH = 4_000, 8_000


def test_the_documented_depth_derives_and_the_next_is_a_clear_error():
    d = matdiff.diff(tanh_chain(DOCUMENTED_DEPTH), "x")
    assert f"t{_sub(DOCUMENTED_DEPTH)} = tanh(t{_sub(DOCUMENTED_DEPTH - 1)})" in d.pretty()
    with pytest.raises(matdiff.MatdiffError, match="nested too deeply"):
        matdiff.diff(tanh_chain(FAILING_DEPTH), "x")


def _sub(n: int) -> str:
    return str(n).translate(str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉"))


def tanh_chain(depth: int) -> str:
    return "sum(" + "tanh(" * depth + "x" + ")" * depth + ")"


def test_depth_200_is_fast_and_prints_linearly():
    start = time.perf_counter()
    d = matdiff.diff(tanh_chain(200), "x")
    text = d.pretty()
    assert time.perf_counter() - start < 5   # generous: the benchmark measures ~0.2 s
    lengths = [len(matdiff.diff(tanh_chain(n), "x").pretty()) for n in (50, 100, 200)]
    assert lengths[2] - lengths[1] == pytest.approx(2 * (lengths[1] - lengths[0]), rel=0.2)
    assert "where t₁ = tanh(x)" in text and "t₂₀₀ = tanh(t₁₉₉)" in text


def _key_reads(depth: int) -> int:
    return node_reads(lambda: matdiff.diff(tanh_chain(depth), "x").pretty())


def test_work_grows_linearly_with_depth_in_a_long_running_process():
    """A global cache keyed by nodes made every later derivation compare its trees with
    the equal ones cached earlier: O(depth²) work in a process that had derived a
    similar expression before (the depth benchmark, the web server)."""
    for depth in (300, 600):
        matdiff.diff(tanh_chain(depth), "x").pretty()   # earlier, similar work
    small, large = _key_reads(600), _key_reads(1200)
    assert large < 2.3 * small, (small, large)
    assert large < 100 * 1200, large   # about 42 reads per level; the O(n²) code read 1,000+


def test_deep_chain_is_right():
    d = matdiff.diff(tanh_chain(30), "x")
    assert d.verify(method="central").ok and d.verify().ok


def test_shared_names_in_every_format():
    d = matdiff.diff(tanh_chain(3), "x")
    assert "where t_1 = tanh(x)" in d.text(shared=True)
    assert "t₃ = tanh(t₂)" in d.pretty(shared=True)
    assert r"\text{where } \begin{aligned}[t] t_{1} &= \tanh\left(x\right) \\ t_{2} &= " \
        in d.latex(shared=True)
    assert "where" not in d.pretty()   # small results are written out


def test_shared_names_avoid_user_symbols():
    d = matdiff.diff("sum(tanh(tanh(t)))", "t")
    assert "where u₁ = tanh(t)" in d.pretty(shared=True)
