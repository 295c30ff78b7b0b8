"""The functions ML uses (issue 9, item 4): each through every stage.

Every derivative is checked against both oracles (elementwise sympy and central
differences), and its printed forms (text and Unicode) must read back to the same value.
"""
import numpy as np
import pytest

import matdiff
from matdiff.api import parse_like
from matdiff.check.verifier import kinks_near
from tests.helpers import value, values_for

CASES = [   # (id, expression, variable, declarations)
    # the inexpressible cases of issue 9
    ("max-0-u", "max(0, wᵀx + β)", "w", ""),
    ("max-u-0", "max(wᵀx + β, 0)", "x", ""),
    ("relu", "aᵀrelu(Wx − b)", "W", ""),
    ("abs", "sum(abs(x − y))", "x", ""),
    ("sign", "sign(aᵀx − 1)(aᵀx)²", "x", ""),
    ("tan", "sum(tan(x/4))", "x", ""),
    ("norm1", "norm1(A*x-y)", "x", ""),
    ("norm1-bars", "‖Ax − y‖₁", "x", ""),
    ("norm1-matrix", "‖X − A‖₁", "X", ""),
    ("elementwise-square", "sum(x.^2)", "x", ""),
    ("scalar-power-base", "a^(b)", "a", ""),
    ("scalar-power-exponent", "a^(b)", "b", ""),
    ("mean-vector", "mean(x ⊙ x)", "x", ""),
    ("mean-matrix", "mean(AX)", "X", ""),
    ("attention-Q", "sum(softmax(QKᵀ/sqrt(δ))V)", "Q", ""),
    ("attention-K", "aᵀsoftmax(QKᵀ/sqrt(δ))Vb", "K", ""),
    ("attention-V", "aᵀsoftmax(QKᵀ/sqrt(δ))Vb", "V", ""),
    # the rest of the list
    ("softplus", "aᵀsoftplus(Wx)", "W", ""),
    ("arcsin", "sum(arcsin(x/4))", "x", ""),
    ("arccos", "sum(arccos(x/4))", "x", ""),
    ("arctan", "sum(arctan(Ax))", "x", ""),
    ("log-softmax", "yᵀlog_softmax(Wx)", "W", ""),
    ("log-softmax-rows", "sum(A ⊙ log_softmax(X))", "X", ""),
    ("hadamard-power-braces", "sum(A ⊙ X^{∘2})", "X", ""),
    ("hadamard-power-ring", "sum(X^∘3)", "X", ""),
    ("elementwise-power-symbolic", "aᵀ(x.^α)", "α", ""),
    ("elementwise-power-symbolic-base", "aᵀ(x.^α)", "x", ""),
    ("scalar-power-sum-exponent", "a^(b+1)", "b", ""),
    ("scalar-power-braces", "a^{b c}", "a", ""),
    ("double-star", "tr(X**2)", "X", ""),
    ("double-star-inverse", "tr(A X**(-1))", "X", ""),
    ("softmax-cols", "sum(A ⊙ softmax_cols(X))", "X", ""),
    ("softmax-rows-explicit", "sum(A ⊙ softmax_rows(X))", "X", ""),
    ("logsumexp-rows", "aᵀlogsumexp(X)", "X", ""),
    ("softmax-rows-of-a-column", "aᵀsoftmax_rows(x) + aᵀx", "x", ""),
    ("softmax-row-vector", "softmax(xᵀ)a", "x", ""),
    ("logsumexp-cols", "logsumexp_cols(X) a", "X", ""),
    ("ones-word", "onesᵀx + 𝟏ᵀx", "x", ""),
    ("ones-subscript", "1_nᵀ(x ⊙ x)", "x", ""),
    ("identity-subscript", "xᵀ(I_n + A)x", "x", ""),
    ("eye", "tr(eye X)", "X", ""),
    ("vector-one", "vector(1)ᵀ exp(x)", "x", ""),
    ("matrix-one", "sum(matrix(1) ⊙ X ⊙ X)", "X", ""),
]


def reads_back(d) -> None:
    """The text and Unicode forms of the derivative parse back to the same value."""
    result = d.main_form()
    values = values_for(result, d.expr, seed=3)
    values = {k: v for k, v in values.items() if k in d.symbols}
    expected = value(result, {k: v for k, v in values.items()
                              if k in matdiff.core.nodes.symbols_of(result)}, _dims(d))
    for text in (d.text(), d.pretty()):
        back = parse_like(text, d.symbols)
        own = matdiff.core.nodes.symbols_of(back)
        got = value(back, {k: v for k, v in values.items() if k in own}, _dims(d))
        assert np.allclose(got, expected, rtol=1e-9, atol=1e-12), (text, got, expected)


def _dims(d):
    from matdiff.check.evaluate import bind
    values = values_for(d.expr, seed=3)
    return bind(d.symbols, {k: v for k, v in values.items() if k in d.symbols}, ())[1]


@pytest.mark.parametrize("name, expr, wrt, let", CASES, ids=[c[0] for c in CASES])
def test_function_derives_verifies_and_reads_back(name, expr, wrt, let):
    d = matdiff.diff(expr, wrt, shapes=let)
    for method in ("sympy", "central"):
        check = d.verify(method=method)
        assert check.ok, check.summary()
    if not name.startswith("mean"):   # mean's count prints as sum(𝟏): see test below
        reads_back(d)


def test_mean_is_the_sum_over_the_count():
    d = matdiff.diff("mean(x ⊙ x)", "x")
    x = np.array([1.0, 2.0, 4.0])
    assert np.allclose(d.evaluate({"x": x}), 2 * x / 3)
    assert np.isclose(value(matdiff.parse("mean(X)"), {"X": np.arange(6.0).reshape(2, 3)}),
                      2.5)


def test_max_with_zero_is_relu_and_needs_a_zero():
    assert str(matdiff.parse("max(0, x)")) == str(matdiff.parse("relu(x)"))
    with pytest.raises(matdiff.ParseError, match="max takes 0"):
        matdiff.parse("max(x, y)")


def test_softmax_of_a_matrix_is_row_wise():
    X = np.array([[1.0, 2.0, 3.0], [0.0, -1.0, 5.0]])
    S = matdiff.parse("softmax(X)")
    got = value(S, {"X": X})
    assert np.allclose(got.sum(axis=1), 1.0)
    assert np.allclose(got, np.exp(X) / np.exp(X).sum(axis=1, keepdims=True))
    cols = value(matdiff.parse("softmax_cols(X)"), {"X": X})
    assert np.allclose(cols, np.exp(X) / np.exp(X).sum(axis=0, keepdims=True))


def test_softmax_and_logsumexp_are_stable_for_large_entries():
    X = np.array([[1000.0, 1001.0], [-1000.0, 0.0]])
    S = value(matdiff.parse("softmax(X)"), {"X": X})
    L = value(matdiff.parse("logsumexp(X)"), {"X": X})
    assert np.all(np.isfinite(S)) and np.all(np.isfinite(L))
    assert np.allclose(L.reshape(-1), [1001 + np.log1p(np.exp(-1)), np.log1p(np.exp(-1000))])
    sp = value(matdiff.parse("softplus(x)"), {"x": np.array([800.0, -800.0])})
    assert np.allclose(sp.reshape(-1), [800.0, 0.0])


def test_one_sided_derivatives_at_the_kinks():
    """relu'(0) = 0 (step(0) = 0), abs'(0) = sign(0) = 0: the values the README states."""
    d = matdiff.diff("sum(relu(x))", "x")
    assert np.allclose(d.evaluate({"x": [0.0, -1.0, 2.0]}), [0.0, 0.0, 1.0])
    d = matdiff.diff("sum(abs(x))", "x")
    assert np.allclose(d.evaluate({"x": [0.0, -1.0, 2.0]}), [0.0, -1.0, 1.0])


def test_the_verifier_draws_points_away_from_kinks():
    e = matdiff.parse("sum(abs(x − y))")
    symbols = matdiff.core.nodes.symbols_of(e)
    near = {"x": np.array([1.0, 2.0]), "y": np.array([1.01, 0.0])}
    far = {"x": np.array([1.0, 2.0]), "y": np.array([0.5, 0.0])}
    assert kinks_near([e], near, {"n": 2}, symbols)
    assert not kinks_near([e], far, {"n": 2}, symbols)
    for seed in range(4):   # mixed signs of x − y: both sides of the kink are checked
        assert matdiff.diff("sum(abs(x − y))", "x").verify(seed=seed).ok


def test_symbolic_power_needs_a_scalar_base():
    with pytest.raises(matdiff.ShapeError, match="scalar base"):
        matdiff.parse("X^(b)")
    with pytest.raises(matdiff.ShapeError, match="must be a scalar"):
        matdiff.parse("X.^y", shapes="y: vector")
    # only names in plain arithmetic become scalars: in zᵀBx, x stays a vector
    e = matdiff.parse("(1 + zᵀz)^(zᵀBx)")
    assert matdiff.core.nodes.symbols_of(e)["x"].shape[1] == 1
    assert matdiff.parse("a^(bc + 1)").shape == ()


def test_entrywise_power_prints_in_every_style():
    e = matdiff.parse("X.^α")
    from matdiff.language.render import to_latex, to_pretty, to_text
    assert (to_text(e), to_pretty(e), to_latex(e)) == ("X.^alpha", "X^∘α", "X^{\\circ \\alpha}")


HESSIANS = [("sum(softplus(x))", "x"), ("aᵀlogsumexp(X)", "X"), ("a^(b)", "b"),
            ("sum(x.^3)", "x"), ("sum(softmax(X) ⊙ A)", "X"), ("sum(arctan(Ax))", "x")]


@pytest.mark.parametrize("expr, wrt", HESSIANS, ids=[h[0] for h in HESSIANS])
def test_second_derivatives_of_the_new_functions_verify(expr, wrt):
    h = matdiff.hessian(expr, wrt)
    assert h.verify().ok and h.verify(method="central").ok


def test_jacobian_of_row_softmax_verifies():
    d = matdiff.diff("softmax(X)", "X")
    assert d.rank == 4 and d.verify().ok and d.verify(method="central").ok


def test_latex_names_the_row_axis_when_it_is_not_the_default():
    d = matdiff.diff("aᵀsoftmax_rows(x)", "x")
    assert "\\operatorname{softmax\\_rows}" in d.latex()


# ----- property: the new functions inside random expressions -----------------------------

from hypothesis import assume, given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from tests.fuzzing import expression, fuzz_settings  # noqa: E402

ENTRYWISE = ["relu", "abs", "softplus", "arctan", "tanh"]


@st.composite
def ml_problem(draw):
    v, M = draw(expression("n", 2)), draw(expression("mn", 1))
    fn = draw(st.sampled_from(ENTRYWISE))
    text = draw(st.sampled_from([
        f"sum({fn}({v}))", f"sum(({v}).^2)", f"zᵀ(({v}).^3)", f"‖{v}‖₁",
        f"yᵀsoftmax({M})z", f"yᵀlogsumexp({M})", f"sum(log_softmax({v}))",
        f"max(0, zᵀ({v}))", f"(1 + zᵀz)^(zᵀ({v}))",
    ]))
    typed = matdiff.parse(text)
    wrt = draw(st.sampled_from(sorted(matdiff.core.nodes.symbols_of(typed))))
    return text, wrt


@fuzz_settings(0.3)
@given(ml_problem())
def test_new_functions_in_random_expressions_verify_and_read_back(problem):
    text, wrt = problem
    d = matdiff.diff(text, wrt)
    try:
        check = d.verify(method="central")
    except matdiff.MatdiffError:   # every point at a kink (relu(x − x)): nothing to compare
        assume(False)
    assert check.ok, (text, wrt, check.summary())
    try:
        reads_back(d)
    except matdiff.EvaluationError as err:   # a lone 𝟏 whose size only d knew (sum(𝟏))
        assume("not fixed by any value" not in str(err))
        raise
