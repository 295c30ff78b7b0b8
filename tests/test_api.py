"""The Python API of the brief's §7, exactly as an external suite calls it."""
import numpy as np
import pytest
from helpers import same_value

import matdiff

RNG = np.random.default_rng(3)


def sym(n):
    m = RNG.normal(size=(n, n))
    return m + m.T


def test_the_brief_example():
    d = matdiff.diff("(x − As)ᵀW(x − As)", "s", symmetric=["W"])
    assert d.pretty() == "−2AᵀW(x − As)"
    assert str(d) == "-2 A^T W (x - A s)"
    assert d.latex() == r"-2 A^{\top} W \left(x - A s\right)"
    assert d.shape == ("n",)
    values = {"x": RNG.normal(size=3), "A": RNG.normal(size=(3, 2)), "s": RNG.normal(size=2),
              "W": sym(3)}
    got = d.evaluate(values)
    x, A, s, W = values["x"], values["A"], values["s"], values["W"]
    assert got.shape == (2,)
    assert np.allclose(got, -2 * A.T @ W @ (x - A @ s))


def test_str_reads_back_to_the_same_value():
    for expr, wrt, decl in [("(x − As)ᵀW(x − As)", "s", {"symmetric": ["W"]}),
                            ("½‖σ(Wx) − y‖²", "W", {}), ("log det X", "X", {}),
                            ("x'Ax/(x'x)", "x", {}), ("‖x − a‖", "x", {})]:
        d = matdiff.diff(expr, wrt, **decl)
        for text in (str(d), d.pretty()):
            assert same_value(d.result, matdiff.parse(text, **decl))


def test_expr_objects_are_accepted():
    e = matdiff.parse("aᵀXb")
    assert matdiff.diff(e, "X").pretty() == "abᵀ"


def test_evaluate_shapes_and_scalars():
    d = matdiff.diff("aᵀXb", "X")
    out = d.evaluate({"a": [1.0, 2.0], "b": [3.0, 4.0, 5.0], "X": np.ones((2, 3))})
    assert out.shape == (2, 3)
    d = matdiff.diff("α²", "α")
    assert d.evaluate({"α": 3.0}) == 6.0 and d.shape == ()


@pytest.mark.parametrize("values, fragment", [
    ({"a": [1.0, 2.0]}, "no value given for b"),
    ({"a": [1.0, 2.0], "b": [1.0, 2.0, 3.0], "z": 1.0}, "z is not a symbol"),
    ({"a": [1.0, 2.0], "b": [[1.0, 2.0]]}, "should be vector"),
    ({"a": [1.0, 2.0], "b": [1.0, np.nan, 3.0]}, "NaN"),
    ({"a": [1.0, 2.0], "b": [1.0, 2.0, 3.0], "X": np.ones((3, 3))}, "m = 2 from a"),
    ({"a": [1.0, 2.0], "b": "abc"}, "not numeric"),
])
def test_evaluate_rejects_bad_values(values, fragment):
    d = matdiff.diff("aᵀXb", "X")
    with pytest.raises(matdiff.EvaluationError, match=fragment):
        d.evaluate(values)


def test_symmetric_values_are_checked():
    d = matdiff.diff("(x − As)ᵀW(x − As)", "s", symmetric=["W"])
    bad = {"x": np.ones(2), "A": np.ones((2, 2)), "s": np.ones(2), "W": [[1.0, 2.0], [3.0, 4.0]]}
    with pytest.raises(matdiff.EvaluationError, match="symmetric"):
        d.evaluate(bad)


def test_errors_form_one_hierarchy():
    for cls in (matdiff.ParseError, matdiff.ShapeError, matdiff.EvaluationError,
                matdiff.DeclarationError, matdiff.NoRuleError, matdiff.VerificationError,
                matdiff.UnknownFunctionError):
        assert issubclass(cls, matdiff.MatdiffError) and issubclass(cls, ValueError)


def test_jupyter_and_repr():
    d = matdiff.diff("aᵀXb", "X")
    assert d._repr_latex_().startswith("$") and "a b^{\\top}" in d._repr_latex_()
    assert "abᵀ" in repr(d)


def test_to_dict_has_everything_the_cli_prints():
    out = matdiff.diff("aᵀXb", "X").to_dict()
    assert out["result"] == "a b^T" and out["layout"] == "denominator"
    assert out["shape"] == ["m", "n"] and out["differential"] == "aᵀ dX b"
