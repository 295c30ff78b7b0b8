"""Stage 4: every rewrite keeps the value and shape, and reaches the textbook form."""
import pytest
from helpers import same_value

import matdiff
from matdiff.calculus.simplify import simplify

REWRITES = [   # (rule, input, normal form)
    ("transpose-of-transpose", "(Aᵀ)ᵀ", "A"),
    ("transpose-of-product", "(AB)ᵀ", "BᵀAᵀ"),
    ("transpose-of-scalar", "(aᵀx)ᵀ", "aᵀx"),
    ("transpose-of-symmetric", "Wᵀ + W", "2W"),
    ("transpose-of-symmetric-sum", "(B + Bᵀ)ᵀ", "B + Bᵀ"),
    ("transpose-into-sum-when-shorter", "(A + Bᵀ)ᵀ", "Aᵀ + B"),
    ("transpose-stays-on-sum", "(x − As)ᵀ", "(x − As)ᵀ"),
    ("inverse-of-inverse", "(X⁻¹)⁻¹", "X"),
    ("inverse-of-transpose", "(Xᵀ)⁻¹", "X⁻ᵀ"),
    ("cancel-inverse", "X X⁻¹ A", "A"),
    ("drop-identity", "A I B", "AB"),
    ("chain-power", "X X X", "X³"),
    ("coefficients-fold", "2 (3 x)", "6x"),
    ("like-terms", "x + 2x − 3x + y", "y"),
    ("zero-drops", "0 x + y", "y"),
    ("scalar-powers-merge", "‖x‖ x / ‖x‖", "x"),
    ("scalar-groups-orient", "(aᵀx)(xᵀa)", "(aᵀx)²"),
    ("factor-right", "Ax + Aᵀx", "(A + Aᵀ)x"),
    ("factor-left", "XB + XBᵀ", "X(B + Bᵀ)"),
    ("transpose-out-of-sum", "BᵀXᵀ + XᵀBᵀ", "(XB + BX)ᵀ"),
    ("trace-linear", "tr(2A + Bᵀ)", "2tr(A) + tr(B)"),
    ("trace-cyclic-to-scalar", "tr(abᵀ)", "bᵀa"),
    ("det-of-inverse", "det(X⁻¹)", "1/det(X)"),
    ("log-of-exp", "log(exp(x))", "x"),
    ("sigmoid", "exp(x) ./ (1 + exp(x))", "σ(x)"),
    ("hadamard-ones", "x ⊙ 𝟏", "x"),
    ("hadamard-coefficient", "(−y) ⊙ x", "−y ⊙ x"),
]


@pytest.mark.parametrize("rule, before, after", REWRITES, ids=[r[0] for r in REWRITES])
def test_rewrite(rule, before, after):
    decl = {"symmetric": ["W"]}
    e = matdiff.parse(before, **decl)
    s = simplify(e)
    assert s.shape == e.shape
    assert same_value(e, s), f"{rule} changed the value"
    assert matdiff.to_pretty(s) == after
    assert simplify(s) == s, "simplify is not idempotent"


@pytest.mark.parametrize("text", [
    "(x − As)ᵀW(x − As)", "tr(XᵀBX) + aᵀX⁻¹b", "½‖σ(Wx) − y‖²", "sum(log(1 + exp(Ax)))",
    "det(X)tr(X⁻¹A) + ‖X‖_F", "(aᵀx)(bᵀx)x + ‖x‖²x", "diag(x)A + Aᵀdiag(x)",
])
def test_simplify_keeps_value_and_shape_and_is_idempotent(text):
    e = matdiff.parse(text)
    s = simplify(e)
    assert s.shape == e.shape and same_value(e, s) and simplify(s) == s
