"""Several variables at once: the stacked gradient (MML 5.45) and the block Hessian
(5.147), checked against sympy block by block and as numbers."""
import numpy as np
import pytest

import matdiff
from matdiff.cli import main

MML = "x1²x2 + x1x2³"
SCALARS = "x1, x2: scalar"


def test_mml_5_45_stacked_gradient_values():
    d = matdiff.diff(MML, ["x1", "x2"], shapes=SCALARS)
    assert d.verify().ok
    for x1, x2 in [(1.0, 2.0), (-0.5, 0.3)]:
        want = [2 * x1 * x2 + x2 ** 3, x1 ** 2 + 3 * x1 * x2 ** 2]
        assert np.allclose(d.evaluate({"x1": x1, "x2": x2}), want)
    assert d.text().startswith("[") and d.latex().startswith("\\begin{bmatrix}")
    # each printed block reads back to the same value
    for block, text in zip(d.blocks, d.text()[1:-1].split(", ")):
        back = matdiff.parse(text, shapes=SCALARS)
        assert matdiff.verify(MML, block.wrt.name, back, shapes=SCALARS).ok


def test_mml_5_147_block_hessian_values():
    h = matdiff.hessian(MML, "x1,x2", shapes=SCALARS)
    assert h.verify().ok
    x1, x2 = 0.7, -1.3
    want = [[2 * x2, 2 * x1 + 3 * x2 ** 2], [2 * x1 + 3 * x2 ** 2, 6 * x1 * x2]]
    assert np.allclose(h.evaluate({"x1": x1, "x2": x2}), want)
    assert h.latex().count("\\\\") == 1 and "&" in h.latex()
    assert h.pretty().startswith("[[")


def test_vector_and_scalar_blocks():
    h = matdiff.hessian("xᵀAy + ‖y‖² + c xᵀx", ["x", "y", "c"], shapes="c: scalar")
    assert h.verify().ok
    rng = np.random.default_rng(0)
    v = {"x": rng.normal(size=2), "y": rng.normal(size=3), "A": rng.normal(size=(2, 3)),
         "c": 1.5}
    H = h.evaluate(v)
    A = v["A"]
    want = np.block([[2 * 1.5 * np.eye(2), A, 2 * v["x"][:, None]],
                     [A.T, 2 * np.eye(3), np.zeros((3, 1))],
                     [2 * v["x"][None, :], np.zeros((1, 3)), np.zeros((1, 1))]])
    assert np.allclose(H, want)
    assert "2xᵀ" in h.pretty()   # the (c, x) block is a row


def test_matrix_blocks_are_a_tuple():
    d = matdiff.diff("tr(XᵀAY)", "X,Y")
    assert d.verify().ok
    rng = np.random.default_rng(1)
    v = {"X": rng.normal(size=(2, 3)), "A": rng.normal(size=(2, 2)),
         "Y": rng.normal(size=(2, 3))}
    gX, gY = d.evaluate(v)
    assert np.allclose(gX, v["A"] @ v["Y"]) and np.allclose(gY, v["A"].T @ v["X"])


def test_steps_of_every_block_check():
    from matdiff.check.steps import check_steps
    d = matdiff.diff(MML, ["x1", "x2"], shapes=SCALARS)
    assert all(r.ok for r in check_steps(d.steps()))


def test_cli_several(capsys):
    assert main(["diff", MML, "--wrt", "x1,x2", "--let", SCALARS, "--check"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("[") and out.count("check passed") == 2
    assert main(["hessian", MML, "--wrt", "x1,x2", "--let", SCALARS, "--latex"]) == 0
    assert "bmatrix" in capsys.readouterr().out
    assert main(["diff", MML, "--wrt", "x1,x1", "--let", SCALARS]) == 1
    assert "named twice" in capsys.readouterr().err


def test_bad_variable_lists():
    with pytest.raises(matdiff.DeclarationError):
        matdiff.diff(MML, [], shapes=SCALARS)
    with pytest.raises(matdiff.MatdiffError):
        matdiff.hessian(MML, ["x1", "x2"], "x1", shapes=SCALARS)


def test_expand_gives_mml_5_7_and_5_147_exactly():
    d = matdiff.diff(MML, "x1,x2", shapes=SCALARS, expand=True)
    assert d.pretty() == "[2x₁x₂ + x₂³, x₁² + 3x₁x₂²]"
    assert d.verify().ok   # the expanded form is what verify checks
    h = matdiff.hessian(MML, ["x1", "x2"], shapes=SCALARS, expand=True)
    assert h.pretty() == "[[2x₂, 2x₁ + 3x₂²], [2x₁ + 3x₂², 6x₁x₂]]"
    assert h.verify().ok
    for block in d.blocks:   # the printed text reads back to the verified value
        assert matdiff.verify(MML, block.wrt.name, block.text(), shapes=SCALARS).ok


def test_expand_leaves_non_polynomials_alone():
    d = matdiff.diff("exp(x)(x + 1)²", "x", shapes="x: scalar", expand=True)
    assert d.result == matdiff.diff("exp(x)(x + 1)²", "x", shapes="x: scalar").result
    assert d.verify().ok
    v = matdiff.diff("xᵀAx", "x", expand=True)
    assert v.pretty() == "(A + Aᵀ)x" and v.verify().ok


def test_cli_expand(capsys):
    assert main(["diff", MML, "--wrt", "x1", "--let", SCALARS, "--expand"]) == 0
    assert capsys.readouterr().out.startswith("2x₁x₂ + x₂³\n")
