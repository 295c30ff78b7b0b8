"""Stage 5: the oracle accepts true gradients and rejects planted wrong ones."""
import subprocess
import sys

import pytest

import matdiff


@pytest.mark.parametrize("method", ["sympy", "central"])
@pytest.mark.parametrize("expr, wrt, right, wrong", [
    ("tr(AXB)", "X", "Aᵀ Bᵀ", "Aᵀ Bᵀ + 0.001 Aᵀ Bᵀ"),
    ("aᵀXb", "X", "a bᵀ", "a bᵀ ⊙ a bᵀ"),
    ("xᵀAx", "x", "(A + Aᵀ)x", "2Ax"),
    ("log det X", "X", "X⁻ᵀ", "X⁻¹"),
    ("aᵀX⁻¹b", "X", "−X⁻ᵀabᵀX⁻ᵀ", "−X⁻¹abᵀX⁻¹"),
    ("(x − As)ᵀW(x − As)", "s", "−Aᵀ(W + Wᵀ)(x − As)", "−2AᵀW(x − As)"),
])
def test_accepts_right_and_rejects_planted_wrong(method, expr, wrt, right, wrong):
    assert matdiff.verify(expr, wrt, right, method=method).ok
    check = matdiff.verify(expr, wrt, wrong, method=method)
    assert not check.ok
    assert "FAILED" in check.summary() and "expected" in check.summary()


def test_require_raises_a_verification_error():
    assert matdiff.verify("tr(AXB)", "X", "Aᵀ Bᵀ").require().ok
    with pytest.raises(matdiff.VerificationError, match="expected"):
        matdiff.verify("tr(AXB)", "X", "2 Aᵀ Bᵀ").require()


def test_wrong_shape_is_rejected():
    with pytest.raises(matdiff.ShapeError):
        matdiff.verify("tr(AXB)", "X", "A + B")
    check = matdiff.verify("tr(AXB)", "X", "(B A)ᵀ", shapes={"A": "m×n", "B": "n×m"})
    assert check.ok
    check = matdiff.verify("tr(AXB)", "X", "B A", shapes={"A": "m×n", "B": "n×m"})
    assert not check.ok and "expected" in check.summary()


def test_symmetric_variable_uses_symmetric_parametrisation():
    # For symmetric X every gradient G with G + Gᵀ equal is right: aᵀXb gives abᵀ or baᵀ.
    assert matdiff.verify("aᵀXb", "X", "a bᵀ", symmetric=["X"]).ok
    assert matdiff.verify("aᵀXb", "X", "b aᵀ", symmetric=["X"]).ok
    assert not matdiff.verify("aᵀXb", "X", "2 a bᵀ", symmetric=["X"]).ok


def test_report_states_sizes_seed_and_error():
    check = matdiff.diff("aᵀXb", "X").verify(seed=7)
    text = check.summary()
    assert check.ok and "seed 7" in text and "m=2" in text and "n=3" in text
    assert check.sizes["m"] != check.sizes["n"]


def test_import_does_not_load_sympy_or_numpy():
    code = "import sys, matdiff; matdiff.diff('aᵀXb', 'X').pretty(); " \
           "print('sympy' in sys.modules, 'numpy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["False", "False"]
