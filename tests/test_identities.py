"""Every identity in identities/gradients.toml, derived from its expression alone.

Each is compared with the textbook result numerically, by printed size (characters
without spaces and brackets), and verified against elementwise sympy derivatives.
"""
import numpy as np
import pytest

import matdiff
from matdiff.identities import check_identity, load, printed_size

IDENTITIES = load()


def test_there_are_at_least_forty_identities_with_unique_ids():
    ids = [e.id for e in IDENTITIES]
    assert len(ids) >= 40 and len(set(ids)) == len(ids)


@pytest.mark.parametrize("entry", IDENTITIES, ids=[e.id for e in IDENTITIES])
def test_identity(entry):
    outcome = check_identity(entry)
    assert outcome.same_value, f"{outcome.derived} ≠ {outcome.textbook}"
    assert outcome.size_ok, f"{outcome.derived} is longer than {outcome.textbook}"
    assert outcome.check.ok, outcome.check.summary()


def test_printed_size_ignores_spaces_and_brackets():
    assert printed_size("(A + Aᵀ)x") == printed_size("A+Aᵀx") == 5


def test_brief_examples_print_in_textbook_form():
    cases = [("xᵀAx", "x", {}, "(A + Aᵀ)x"),
             ("(x − As)ᵀW(x − As)", "s", {"symmetric": ["W"]}, "−2AᵀW(x − As)"),
             ("tr(XᵀBX)", "X", {}, "(B + Bᵀ)X"), ("log det X", "X", {}, "X⁻ᵀ"),
             ("aᵀX⁻¹b", "X", {}, "−X⁻ᵀabᵀX⁻ᵀ"), ("tr(X) + 1", "X", {}, "I")]
    for expr, wrt, decl, textbook in cases:
        d = matdiff.diff(expr, wrt, **decl)
        assert d.pretty() == textbook
        assert d.verify().ok


def test_linear_layer_numbers_from_the_seed_lecture():
    """L = gᵀ(Wx): ∂L/∂x = Wᵀg = [39, 54, 69]; ∂L/∂W = g xᵀ (seed 004)."""
    values = {"W": [[1, 2, 3], [4, 5, 6]], "x": [9, 10, 11], "g": [7, 8]}
    dx = matdiff.diff("gᵀ(Wx)", "x").evaluate(values)
    dW = matdiff.diff("gᵀ(Wx)", "W").evaluate(values)
    assert dx.tolist() == [39, 54, 69]
    assert dW.tolist() == [[63, 70, 77], [72, 80, 88]]


def test_scalar_partials_from_the_seed_notes_at_a_point():
    d = matdiff.diff("x₁²x₂ + x₁x₂³", "x1", shapes="x1, x2: scalar")
    assert d.evaluate({"x1": 2.0, "x2": 3.0}) == pytest.approx(2 * 2 * 3 + 27)
    d = matdiff.diff("x₁⁴x₂ + sin(x₁) + log(x₂)", "x2", shapes="x1, x2: scalar")
    assert d.evaluate({"x1": 2.0, "x2": 4.0}) == pytest.approx(16 + 0.25)


def test_toy_network_gradient_matches_the_tensor_slices():
    """Seed 000: Ŷ = WᵀH, W 3×2; ∂L/∂w_jk = (∂L/∂ŷ_k) h_j, i.e. ∇_W L = H (∂L/∂Ŷ)ᵀ."""
    h, g = np.array([1.0, 2.0, 3.0]), np.array([0.5, -1.0])
    W = np.arange(6.0).reshape(3, 2)
    grad = matdiff.diff("gᵀ(Wᵀh)", "W").evaluate({"W": W, "h": h, "g": g})
    assert np.allclose(grad, np.outer(h, g))
