"""Stage 3: one test per differential rule, each checked against both oracles.

Every expression is small and exercises one rule; its derived gradient must agree with
elementwise sympy derivatives and with central differences at distinct sizes.
"""
import pytest

import matdiff

RULES = [   # (rule, expression, variable, declarations)
    ("symbol", "aᵀx", "x", ""),
    ("constant", "aᵀb + 3", "a", ""),
    ("add", "aᵀx + bᵀx", "x", ""),
    ("mul-chain", "aᵀXBXc", "X", ""),
    ("mul-scalar-group", "(aᵀx)(bᵀx)", "x", ""),
    ("mul-scalar-symbol", "α xᵀx", "α", ""),
    ("hadamard", "sum(x ⊙ Ax)", "x", ""),
    ("elemdiv", "sum(x ./ (Ax))", "x", ""),
    ("power-scalar", "(aᵀx)³", "x", ""),
    ("power-negative", "1/(xᵀx)", "x", ""),
    ("power-fractional", "(xᵀx)^(1/2)", "x", ""),
    ("power-matrix", "aᵀX³b", "X", ""),
    ("transpose", "aᵀXᵀb", "X", ""),
    ("inverse", "aᵀX⁻¹b", "X", ""),
    ("trace", "tr(AXB)", "X", ""),
    ("det", "det(AX)", "X", "A: m×m"),
    ("logdet", "logdet(X)", "X", ""),
    ("exp", "sum(exp(Ax))", "x", ""),
    ("log", "sum(log(Ax))", "x", ""),
    ("sin", "sum(sin(Xa))", "X", ""),
    ("cos", "sum(cos(Xa))", "X", ""),
    ("tanh", "aᵀtanh(Wx)", "W", ""),
    ("sigmoid", "aᵀσ(Wx)", "x", ""),
    ("sqrt", "sum(sqrt(Ax))", "x", ""),
    ("sum", "sum(AXB)", "X", ""),
    ("diag-matrix", "aᵀdiag(x)b", "x", ""),
    ("diag-vector", "aᵀdiag(X)", "X", ""),
    ("norm-euclidean", "‖Ax − b‖", "x", ""),
    ("norm-frobenius", "‖AX‖_F", "X", ""),
    ("broadcast-scalar", "sum(x + α)", "α", ""),
    ("symmetric-wrt", "aᵀXb + tr(XAX)", "X", "X: symmetric"),
    ("scalar-variable", "sin(α)β + α²", "α", ""),
    ("row-vector", "‖aᵀ‖² + aᵀBa", "a", ""),
]


@pytest.mark.parametrize("rule, expr, wrt, let", RULES, ids=[r[0] for r in RULES])
def test_rule_agrees_with_both_oracles(rule, expr, wrt, let):
    d = matdiff.diff(expr, wrt, shapes=let)
    sympy_check = d.verify(method="sympy")
    assert sympy_check.ok, sympy_check.summary()
    central_check = d.verify(method="central")
    assert central_check.ok, central_check.summary()


def test_gradient_has_the_shape_of_the_variable():
    for expr, wrt in [("aᵀXb", "X"), ("xᵀAx", "x"), ("tr(X)", "X"), ("α²", "α")]:
        d = matdiff.diff(expr, wrt)
        assert d.result.shape == d.wrt.shape


def test_variable_that_does_not_occur_gives_a_zero_of_its_shape():
    d = matdiff.diff("aᵀb", "X")
    assert d.shape == d.wrt.shape and len(d.shape) == 2
    value = d.evaluate({"a": [1.0, 2.0], "b": [3.0, 4.0], "X": [[1.0, 2.0, 3.0]] * 2})
    assert value.shape == (2, 3) and not value.any()


def test_differential_form_is_kept():
    d = matdiff.diff("log det X", "X")
    assert str(d.differential) == "tr(X^-1 dX)"


def test_vector_expression_gives_the_jacobian():
    d = matdiff.diff("Ax", "x")
    assert d.kind == "jacobian" and d.pretty() == "A" and d.verify().ok


def test_bad_variable_name():
    with pytest.raises(matdiff.DeclarationError):
        matdiff.diff("aᵀx", "x + 1")
