"""Evaluate any expression or program, from Python and the command line."""
import numpy as np
import pytest

import matdiff
from matdiff.cli import main

W, X = [[1, 2, 3], [4, 5, 6]], [9, 10, 11]


def test_parse_evaluate_and_evaluate_agree_with_numpy():
    want = np.array(W) @ np.array(X)
    assert np.allclose(matdiff.parse("Wx").evaluate({"W": W, "x": X}), want)
    assert np.allclose(matdiff.evaluate("Wx", {"W": W, "x": X}), want)
    assert matdiff.evaluate(r"\frac{1}{2}\|\mathbf{x}\|^2", {"x": X}) == 0.5 * (81 + 100 + 121)
    A = np.array([[2.0, 1.0], [1.0, 3.0]])
    assert np.isclose(matdiff.evaluate("log det A", {"A": A}), np.log(np.linalg.det(A)))


def test_programs_evaluate_their_last_statement():
    p = "y = Wx; L = gᵀy"
    assert matdiff.evaluate(p, {"W": W, "x": X, "g": [7, 8]}) == 7 * 62 + 8 * 152
    values = matdiff.parse_program(p).values({"W": W, "x": X, "g": [7, 8]})
    assert np.allclose(values["y"], [62, 152])


def test_bad_values_are_typed_errors():
    with pytest.raises(matdiff.EvaluationError, match="no value given for x"):
        matdiff.evaluate("Wx", {"W": W})
    with pytest.raises(matdiff.EvaluationError, match="not finite"):
        matdiff.evaluate("log(x)", {"x": [-1.0, 2.0]})


def test_cli_eval(capsys):
    assert main(["eval", "Wx", "--at", "W=[[1,2,3],[4,5,6]]; x=[9,10,11]"]) == 0
    assert capsys.readouterr().out == "[62, 152]\n"
    assert main(["eval", "Wx", "--at", "W=__import__('os'); x=[1]"]) == 1
    assert "not a number or a list" in capsys.readouterr().err


def test_seed_004_gradients_from_the_cli(capsys):
    """Seed 004: y = Wx with W = [[1,2,3],[4,5,6]], x = (9,10,11), ∂L/∂y = (7,8):
    ∂L/∂x = Wᵀ∂L/∂y = (39, 54, 69) and ∂L/∂W = ∂L/∂y xᵀ."""
    at = "W=[[1,2,3],[4,5,6]]; x=[9,10,11]; g=[7,8]"
    assert main(["diff", "y = Wx; L = gᵀy", "--wrt", "x", "--at", at]) == 0
    assert "value: [39, 54, 69]" in capsys.readouterr().out.splitlines()
    assert main(["diff", "y = Wx; L = gᵀy", "--wrt", "W", "--at", at]) == 0
    assert "value: [[63, 70, 77], [72, 80, 88]]" in capsys.readouterr().out.splitlines()
