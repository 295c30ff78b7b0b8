"""Other tools' syntax (issue 9, item 5): matrixcalculus.org's documented examples and
SymPy's printed matrix expressions read with their meaning.

Each derivative is verified numerically (sympy oracle and central differences) and its
value compared with the derivative the site documents / the mathematics gives, written
independently in matdiff's own syntax.
"""
import numpy as np
import pytest

import matdiff
from matdiff.api import parse_like
from matdiff.cli import main
from tests.helpers import value, values_for

MATRIXCALCULUS = [   # (example from matrixcalculus.org's documentation, variable, expected)
    ("0.5*x'*A*x", "x", "½(A + Aᵀ)x"),
    ("norm2(A*x-y)^2", "x", "2Aᵀ(Ax − y)"),
    ("norm1(A*x-y)", "x", "Aᵀsign(Ax − y)"),
    ("sum(log(exp(-y.*(X*w)) + vector(1)))", "w", "−Xᵀ(y ⊙ σ(−y ⊙ Xw))"),
    ("tr(A*X'*B*X*C)", "X", "BXCA + BᵀXAᵀCᵀ"),
    ("log(det(inv(X)))", "X", "−X⁻ᵀ"),
    ("a^b", "a", "b a^(b − 1)"),
    ("a^b", "b", "log(a) a^b"),
    ("(y.*v)'*x", "x", "y ⊙ v"),
    ("A*exp(x)", "x", "A diag(exp(x))"),
    ("x'*eye*x", "x", "2x"),
    ("sum(matrix(1).*X.^2)", "X", "2X"),
    ("norm2(X*A)^2", "X", "2XAAᵀ"),
    ("c*xy'*xy", "xy", "2c xy"),
]

SYMPY = [   # (SymPy's printing, variable, expected)
    ("Trace(X.T*A*X)", "X", "(A + Aᵀ)X"),
    ("Trace(X**(-1))", "X", "−(X⁻²)ᵀ"),
    ("Trace(X)", "X", "I"),
    ("Determinant(X)", "X", "det(X) X⁻ᵀ"),
    ("log(Determinant(X))", "X", "X⁻ᵀ"),
    ("Trace(HadamardProduct(A, X))", "X", "A ⊙ I"),
    ("Trace(Inverse(X)*A)", "X", "−X⁻ᵀAᵀX⁻ᵀ"),
    ("Trace(Transpose(X)*A)", "X", "A"),
    ("Trace(MatPow(X, 3))", "X", "3(X²)ᵀ"),
    ("x.T*A*x", "x", "(A + Aᵀ)x"),
    ("Trace(X**2*A)", "X", "(AX + XA)ᵀ"),
]


def _same_derivative(d, expected):
    values = values_for(d.expr, seed=1)
    values = {k: v for k, v in values.items() if k in d.symbols}
    want = parse_like(expected, d.symbols)
    from matdiff.core.nodes import symbols_of
    from matdiff.check.evaluate import bind
    dims = bind(d.symbols, values, ())[1]
    got = d.evaluate(values)
    ref = value(want, {k: v for k, v in values.items() if k in symbols_of(want)}, dims)
    assert np.allclose(np.asarray(got).reshape(ref.shape), ref, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("syntax, expr, wrt, expected",
                         [("matrixcalculus", *c) for c in MATRIXCALCULUS] +
                         [("sympy", *c) for c in SYMPY],
                         ids=[c[0] for c in MATRIXCALCULUS] + [c[0] for c in SYMPY])
def test_dialect_example_reads_with_its_meaning(syntax, expr, wrt, expected):
    d = matdiff.diff(expr, wrt, syntax=syntax)
    for method in ("sympy", "central"):
        check = d.verify(method=method)
        assert check.ok, check.summary()
    _same_derivative(d, expected)


def test_a_matrix_expression_of_sympy_reads():
    d = matdiff.diff("X.T*A*X", "X", syntax="sympy")
    n = d.wrt.shape[1]
    assert d.expr.shape == (n, n)   # XᵀAX is n×n for an m×n X
    assert d.verify().ok and d.verify(method="central").ok


def test_meanings_clash_so_the_dialect_is_explicit():
    """AB is A·B in the notes; in matrixcalculus.org syntax it is one matrix named AB."""
    assert str(matdiff.parse("AB")) == str(matdiff.parse("A*B"))
    one = matdiff.parse("AB", syntax="matrixcalculus")
    assert type(one).__name__ == "Symbol" and one.name == "AB"
    # matrixcalculus.org: a…g are scalars; matdiff: lowercase Latin is a vector
    assert matdiff.parse("c*x", syntax="matrixcalculus").shape == matdiff.parse("x").shape
    with pytest.raises(matdiff.MatdiffError, match="unknown syntax"):
        matdiff.parse("x", syntax="matlab")


def test_sympy_names_outside_the_sympy_dialect_say_what_to_do():
    with pytest.raises(matdiff.UnknownFunctionError, match="syntax='sympy'"):
        matdiff.parse("Trace(X)")


def test_cli_reads_a_dialect(capsys):
    assert main(["diff", "norm2(A*x-y)^2", "--wrt", "x", "--syntax", "matrixcalculus",
                 "--text"]) == 0
    out = capsys.readouterr().out
    d = parse_like(out.splitlines()[0], matdiff.diff("‖Ax − y‖²", "x").symbols)
    values = values_for(d, seed=2)
    ref = matdiff.diff("‖Ax − y‖²", "x").evaluate(values)
    assert np.allclose(value(d, values).reshape(-1), ref)
