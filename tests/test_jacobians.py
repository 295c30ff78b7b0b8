"""Derivatives of any rank: Jacobians, Hessians, tensors, layouts, symmetric variables."""
import numpy as np
import pytest

import matdiff
from matdiff.check.verifier import check_with_sympy
from matdiff.cli import main

RNG = np.random.default_rng(5)


def test_seed_000_toy_network_tensor_slices():
    """Ŷ = WᵀH with W ∈ ℝ^{3×2}: ∂Ŷ/∂W is 3×2×2; slice k is H e_kᵀ (seed 000)."""
    h = np.array([2.0, 3.0, 5.0])
    W = RNG.normal(size=(3, 2))
    d = matdiff.diff("Wᵀh", "W")
    T = d.evaluate({"W": W, "h": h})
    assert T.shape == (2, 3, 2)
    assert T[0].tolist() == [[2, 0], [3, 0], [5, 0]]
    assert T[1].tolist() == [[0, 2], [0, 3], [0, 5]]


def test_mml_example_5_12_entries():
    """f = Ax: ∂fᵢ/∂A_iq = x_q and every other entry 0."""
    A, x = RNG.normal(size=(2, 3)), RNG.normal(size=3)
    T = matdiff.diff("Ax", "A").evaluate({"A": A, "x": x})
    expected = np.zeros((2, 2, 3))
    for i in range(2):
        expected[i, i, :] = x
    assert np.array_equal(T, expected)


def test_mml_example_5_13_entries():
    """K = RᵀR: ∂K_pq/∂R_ij = δ_qj R_ip + δ_pj R_iq."""
    R = RNG.normal(size=(4, 3))
    T = matdiff.diff("RᵀR", "R").evaluate({"R": R})
    expected = np.zeros((3, 3, 4, 3))
    for p, q, i, j in np.ndindex(3, 3, 4, 3):
        expected[p, q, i, j] = (q == j) * R[i, p] + (p == j) * R[i, q]
    assert np.allclose(T, expected)
    assert matdiff.diff("RᵀR", "R").index() == "∂(RᵀR)ᵢⱼ/∂Rₖₗ = δᵢₗ Rₖⱼ + Rₖᵢ δₗⱼ"


@pytest.mark.parametrize("expr, wrt, let, numerator", [
    ("xᵀa", "x", "", "aᵀ"),                                        # MML (5.104)
    ("aᵀx", "x", "", "aᵀ"),                                        # MML (5.105)
    ("aᵀXb", "X", "", "abᵀ"),                                      # MML (5.106)
    ("xᵀBx", "x", "", "xᵀ(B + Bᵀ)"),                               # MML (5.107)
    ("(x − As)ᵀW(x − As)", "s", "W: symmetric", "−2(x − As)ᵀWA"),  # MML (5.108)
])
def test_mml_table_in_numerator_layout(expr, wrt, let, numerator):
    d = matdiff.diff(expr, wrt, shapes=let, layout="numerator")
    assert d.pretty() == numerator
    assert "numerator layout" in d.convention_text()
    assert d.verify().ok


def test_layouts_are_transposes_of_each_other():
    num = matdiff.diff("σ(Wx)", "x", layout="numerator")
    den = matdiff.diff("σ(Wx)", "x", layout="denominator")
    values = {"W": RNG.normal(size=(2, 3)), "x": RNG.normal(size=3)}
    assert num.evaluate(values).shape == (2, 3) and den.evaluate(values).shape == (3, 2)
    assert np.allclose(num.evaluate(values), den.evaluate(values).T)
    assert num.verify().ok and den.verify().ok


@pytest.mark.parametrize("expr, wrt, shape", [
    ("Ax", "A", ("m", "m", "n")), ("AXB", "X", ("m", "p", "n", "k")),
    ("XᵀX", "X", ("n", "n", "m", "n")), ("xxᵀ", "x", ("m", "m", "m")),
])
def test_tensor_shapes_are_F_then_X(expr, wrt, shape):
    d = matdiff.diff(expr, wrt)
    assert d.kind == "tensor" and d.rank == len(shape)
    assert len(d.shape) == len(shape) and d.verify().ok


def test_every_rank_verifies_with_both_oracles():
    for expr, wrt in [("σ(Wx)", "W"), ("X⁻¹", "X"), ("tanh(Wx)", "x"), ("(αA + B)x", "alpha")]:
        d = matdiff.diff(expr, wrt)
        assert d.verify().ok, d.verify().summary()
        assert d.verify(method="central").ok


def test_verifier_rejects_a_wrong_tensor():
    d = matdiff.diff("AXB", "X")
    right = check_with_sympy(d.expr, d.wrt, claimed=lambda v, s: d._tensor(v, s))
    wrong = check_with_sympy(d.expr, d.wrt,
                             claimed=lambda v, s: np.swapaxes(d._tensor(v, s), 2, 3))
    assert right.ok and not wrong.ok


def test_never_cannot_display():
    """A derivative with no matrix or Kronecker form still prints: differential + indices."""
    d = matdiff.diff("X ⊙ exp(X)ᵀ", "X")
    assert d.pretty() and "∂" in d.index()
    assert d.verify().ok


def test_symmetric_conventions():
    un = matdiff.diff("log det X", "X", symmetric=["X"])
    sym = matdiff.diff("log det X", "X", symmetric=["X"], convention="symmetric")
    assert un.pretty() == "X⁻¹" and sym.pretty() == "2X⁻¹ − X⁻¹ ⊙ I"
    M = RNG.normal(size=(3, 3))
    X = M @ M.T + 3 * np.eye(3)
    G = un.evaluate({"X": X})
    assert np.allclose(sym.evaluate({"X": X}), G + G.T - np.diag(np.diag(G)))
    assert un.verify().ok and sym.verify().ok


def test_hessians():
    for h, form in [(matdiff.hessian("xᵀAx", "x"), "A + Aᵀ"),
                    (matdiff.hessian("xᵀAx", "x", symmetric=["A"]), "2A"),
                    (matdiff.hessian("‖Ax − b‖²", "x"), "2AᵀA"),
                    (matdiff.hessian("(aᵀx)²", "x"), "2aaᵀ"),
                    (matdiff.hessian("‖x‖", "x"), "(I − xxᵀ/‖x‖²)/‖x‖")]:
        assert h.pretty() == form and h.verify().ok, form
    h = matdiff.hessian("sum(log(1 + exp(Ax)))", "x")
    assert h.pretty() == "Aᵀdiag(σ(Ax) ⊙ (1 − σ(Ax)))A"
    assert h.verify().ok and h.verify(method="central").ok
    mixed = matdiff.hessian("xᵀAy", "x", "y")
    assert mixed.pretty() == "A" and mixed.verify().ok
    with pytest.raises(matdiff.NoRuleError):
        matdiff.hessian("Ax", "x")


def test_hessian_done_when(capsys):
    code = main(["hessian", "sum(log(1 + exp(Ax)))", "--wrt", "x", "--check"])
    lines = capsys.readouterr().out.splitlines()
    assert code == 0 and lines[0] == "Aᵀdiag(σ(Ax) ⊙ (1 − σ(Ax)))A"
    assert lines[1].startswith("Hessian") and lines[-1].startswith("check passed")


def test_rank_four_done_when(capsys):
    code = main(["diff", "XᵀX", "--wrt", "X", "--index"])
    lines = capsys.readouterr().out.splitlines()
    assert code == 0 and "⊗" in lines[0] and "column-major vec" in lines[1]
    assert lines[2] == "differential: d(XᵀX) = dXᵀ X + Xᵀ dX"
    assert lines[3].startswith("index notation: ∂(XᵀX)ᵢⱼ/∂Xₖₗ")


@pytest.mark.parametrize("layout, word", [("numerator", "m×n"), ("denominator", "n×m")])
def test_cli_layout_flag(capsys, layout, word):
    main(["diff", "Ax", "--wrt", "x", "--layout", layout])
    out = capsys.readouterr().out.splitlines()
    assert out[0] == ("A" if layout == "numerator" else "Aᵀ") and word in out[1]


def test_json_states_kind_layout_and_index(capsys):
    import json
    main(["diff", "Wx", "--wrt", "W", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert data["kind"] == "tensor" and data["layout"] == "numerator"
    assert data["index"] == "∂(Wx)ᵢ/∂Wⱼₖ = δᵢⱼ xₖ" and data["result"]
