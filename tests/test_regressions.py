"""Named regression tests: every wrong answer or crash the fuzzer (tests/test_fuzz.py)
found, kept so that it cannot come back."""
import pytest
from helpers import same_value

import matdiff


def test_fuzz_zero_over_zero_literal():
    """'0/0' lexed as one fraction literal and raised ZeroDivisionError."""
    with pytest.raises(matdiff.DomainError, match="divides by zero"):
        matdiff.parse("0/0")


def test_fuzz_division_by_a_zero_found_by_simplification():
    """1/(α − α): the denominator is 0 only once simplified; it raised ZeroDivisionError."""
    with pytest.raises(matdiff.DomainError, match="divides by zero"):
        matdiff.diff("1/(α − α)", "α")


@pytest.mark.parametrize("text, wrt", [
    ("log(α − α)", "α"), ("sum(x ./ (x − x))", "x"), ("sum((X − X)⁻¹)", "X"),
    ("aᵀx/(xᵀx − xᵀx)", "x"),
])
def test_undefined_expressions_are_refused_not_differentiated(text, wrt):
    """The same family: a derivative of something undefined must not cancel to 0."""
    with pytest.raises(matdiff.DomainError):
        matdiff.diff(text, wrt)


def test_fuzz_greek_word_with_digits():
    """'mu0' crashed the name splitter (AttributeError); it is μ₀."""
    assert matdiff.to_pretty(matdiff.parse("mu0 x")) == "μ₀x"
    assert str(matdiff.parse("alpha_1")) == "alpha_1"


def test_fuzz_negated_sum_keeps_its_brackets():
    """x − (1 + y) printed as 'x − 1 + y' (a wrong value on reading back)."""
    e = matdiff.parse("x − (1 + y)")
    assert matdiff.to_pretty(e) == "x − (1 + y)"
    assert same_value(e, matdiff.to_text(e))


def test_fuzz_nested_norms_are_bracketed():
    """‖2‖y‖²y‖² reads back as a different expression: the inner norm is bracketed."""
    original = matdiff.parse("‖(‖y‖²)(y + y)‖²")
    e = matdiff.simplify(original)
    assert matdiff.to_pretty(e) == "‖2(‖y‖)²y‖²"
    assert same_value(original, matdiff.to_text(e)) and same_value(original, matdiff.to_pretty(e))


def test_fuzz_function_call_after_a_letter():
    """C softmax(y) printed as 'Csoftmax(y)', which does not read back."""
    e = matdiff.parse("C softmax(y)")
    assert matdiff.to_pretty(e) == "C softmax(y)" and same_value(e, matdiff.to_pretty(e))


def test_fuzz_overflow_is_not_a_failed_check():
    """exp(exp(tr(B))) overflows at every test point: no verdict, a clear error."""
    with pytest.raises(matdiff.MatdiffError, match="cannot verify"):
        matdiff.diff("exp(exp(tr(B)))", "B").verify(method="central")


def test_fuzz_a_dimension_never_prints_as_a_symbol_name():
    """tr(I + C) = m + tr(C) printed the dimension as 'm', which reads back as a vector."""
    original = matdiff.parse("tr(I + C)")
    e = matdiff.simplify(original)
    assert matdiff.to_pretty(e) == "tr(I) + tr(C)" and same_value(original, e)


def test_fuzz_power_of_log_det():
    """(logdet C)² printed as 'log det(C)^2', which reads back as log(det(C)²)."""
    e = matdiff.parse("(logdet(C))²")
    assert matdiff.to_pretty(e) == "(log det(C))²" and same_value(e, matdiff.to_pretty(e))


def test_fuzz_capital_runs_before_brackets_are_products():
    """BSB(x + z) was refused as an unknown function 'BSB'; it is a product."""
    assert same_value("BSB(x + z)", "B S B (x + z)")
    with pytest.raises(matdiff.UnknownFunctionError):
        matdiff.parse("sigmod(x)")


def test_fuzz_functions_of_a_zero_vector():
    """softmax(x − x) printed as softmax(0), which reads back as a softmax of a scalar."""
    original = matdiff.parse("x + softmax(x − x)")
    e = matdiff.simplify(original)
    assert matdiff.to_pretty(e) == "x + 𝟏/tr(I)" and same_value(original, e)
    sig = matdiff.parse("σ(x − x)")
    assert matdiff.to_pretty(matdiff.simplify(sig)) == "½𝟏"
    assert same_value(sig, matdiff.simplify(sig))


def test_fuzz_central_differences_allow_for_rounding():
    """det(C)² + det(B): |f| ≈ 10⁵ makes central differences lose ~10⁻⁵ to rounding;
    the check's tolerance now includes that, instead of failing a right gradient."""
    d = matdiff.diff("((det(C))²) + (det(B))", "B", shapes="B: n×n; C: m×m")
    assert d.verify(method="central").ok and d.verify().ok


def test_fuzz_a_lone_ones_vector_reads_back_with_a_clear_error():
    """(1 + (x − x))/(1 + (xᵀx)²) is 𝟏/(1 + (xᵀx)²): printed, nothing fixes the length of
    𝟏, so evaluating the read-back form says so (it never guesses a size)."""
    e = matdiff.simplify(matdiff.parse("(1 + ((x) − (x)))/(1 + ((x)ᵀ(x))²)"))
    again = matdiff.parse(matdiff.to_text(e))
    with pytest.raises(matdiff.EvaluationError, match="not fixed by any value"):
        again_value = __import__("matdiff.check.evaluate", fromlist=["evaluate"]).evaluate
        again_value(again, {"x": [1.0, 2.0]})


# ----- issue 8, engine side ------------------------------------------------------------------

def _printed_and_verified(d):
    from helpers import printed_form_agrees
    assert printed_form_agrees(d), d.pretty()
    assert d.verify().ok and d.verify(method="central").ok
    return d


def test_issue8_kronecker_form_keeps_a_row_times_column_scalar():
    """x yᵀ z by x printed I: kron(zᵀy, I) dropped the scalar-valued chain zᵀy, because
    a scalar product decomposes as a chain, not as a scalar factor."""
    for expr, wrt in [("x yᵀ z", "x"), ("(r cᵀ)c", "r"), ("A x yᵀ z", "x"),
                      ("X a bᵀ c", "X")]:
        _printed_and_verified(matdiff.diff(expr, wrt))


def test_issue8_trace_of_a_broadcast_scalar_counts_the_diagonal():
    """tr(B + 1) = tr(B) + n, not tr(B) + 1 (the 1 is added to every entry)."""
    e = matdiff.parse("tr(B + 1)")
    assert same_value(e, matdiff.simplify(e))
    for expr, wrt in [("α tr(B + 1)", "α"), ("tr(E − 1)^2", "E"),
                      ("tr(‖G‖_F + GX)", "G"), ("tr(α + B)", "α")]:
        _printed_and_verified(matdiff.diff(expr, wrt))


def test_issue8_broadcast_scalar_term_is_not_factored_into_a_chain():
    """E di + sᵀdi was factored as (E + sᵀ)di: a 1×n row added to an m×n matrix."""
    d = _printed_and_verified(matdiff.diff("Ei + logsumexp(i)", "i"))
    assert d.result is not None


def test_issue8_hessians_by_a_matrix_print_a_matrix_form():
    """Hessians of det(A) and tr(X⁻¹) printed the differential (a transpose of a sum had
    no vec form: vec(Aᵀ) = K vec(A)); tr(‖G‖_F + GX) printed a wrong Kronecker form."""
    for expr, wrt in [("det(A)", "A"), ("tr(X⁻¹)", "X"), ("tr(‖G‖_F + GX)", "G")]:
        h = matdiff.hessian(expr, wrt)
        assert h.kron is not None
        _printed_and_verified(h)


def test_issue8_softmax_cross_entropy_gradient_is_finite_at_large_logits():
    """−yᵀlog(softmax(Wx)) by W was NaN at logits ±800: (−y ./ s) ⊙ s overflowed; now
    (a ./ b) ⊙ b = a and (a ./ b)ᵀb = sum(a) give the textbook (sum(y)s − y)xᵀ."""
    import numpy as np
    d = matdiff.diff("−yᵀlog(softmax(Wx))", "W")
    assert d.verify().ok
    W = np.array([[800.0, 1.0], [-800.0, 2.0], [3.0, -1.0]])
    x, y = np.array([1.0, 0.5]), np.array([0.2, 0.5, 0.3])
    u = W @ x
    s = np.exp(u - u.max()) / np.exp(u - u.max()).sum()
    assert np.allclose(d.evaluate({"W": W, "x": x, "y": y}), np.outer(y.sum() * s - y, x))


def test_issue8_stable_values_of_softmax_logsumexp_sigmoid_softplus():
    """Each composite evaluates without overflow where its true value is finite."""
    import numpy as np
    from matdiff.check.evaluate import evaluate
    u = np.array([800.0, -800.0, 0.5])
    lse = 800.0 + np.log1p(np.exp(-1600.0) + np.exp(0.5 - 800.0))
    cases = {
        "log(softmax(u))": u - lse,
        "logsumexp(u)": lse,
        "σ(u)": np.array([1.0, 0.0, 1 / (1 + np.exp(-0.5))]),
        "log(σ(u))": np.array([0.0, -800.0, -np.log1p(np.exp(-0.5))]),
        "log(1 + exp(u))": np.array([800.0, 0.0, np.log1p(np.exp(0.5))]),
        "log(exp(u) + 1)": np.array([800.0, 0.0, np.log1p(np.exp(0.5))]),
        "sum(log(softmax(u)))": np.sum(u - lse),
    }
    for text, expected in cases.items():
        got = np.asarray(evaluate(matdiff.parse(text), {"u": u}), dtype=float).reshape(-1)
        assert np.all(np.isfinite(got)), text
        assert np.allclose(got, np.reshape(expected, -1), rtol=1e-12, atol=1e-300), text


def test_issue8_index_notation_of_broadcast_scalar_terms():
    """d.index() crashed (internal AssertionError/ShapeError) where a scalar term of a
    matrix sum inside a chain replaced the matrix: it now stands for t𝟏𝟏ᵀ.  Each
    derivative is also checked by value."""
    cases = [("‖(‖V‖_F + V)q‖", "V", "Vᵢⱼ"), ("‖(w + a)ᵀC(w + a) + Dw‖", "w", "∂"),
             ("wᵀ(𝟏ᵀ(Qm) + Qm)", "m", "wᵀ𝟏 (Qᵀ𝟏)ᵢ + (wᵀQ)ᵢ"),
             ("dᵀ(rᵀ(RJ)r₁ + JF)r", "J", "dᵀ𝟏𝟏ᵀr (Rᵀrr₁ᵀ)ᵢⱼ + dᵢ (Fr)ⱼ")]
    for expr, wrt, expected in cases:
        d = matdiff.diff(expr, wrt)
        assert d.verify().ok
        assert expected in d.index()


def test_issue8_mixed_hessian_verifies_by_central_differences():
    """∂²/∂Ξ∂τ of sum(exp(τ) + (Ξ − τ))τ is 𝟏𝟏ᵀ: no symbol fixes the sizes of 𝟏𝟏ᵀ, so
    the central-difference check raised KeyError; sizes are now chosen for every dimension
    a constant names too."""
    for first, second in [("Ξ_l", "τ"), ("τ", "Ξ_l")]:
        h = matdiff.hessian("sum(exp(τ) + (Ξ_l − τ))τ", first, second)
        assert h.verify().ok and h.verify(method="central").ok


def test_issue8_sympy_check_has_a_budget_and_falls_back_to_central_differences(monkeypatch):
    """verify() of det(inv(L⁻ᵀᵀ)) at 4×4 and the Hessian of ln det(ΦΦᵀ + I) at 4×3 ran for
    minutes in sympy (symbolic adjugates); past the budget the check uses central
    differences and says so."""
    import matdiff.check.verifier as verifier
    monkeypatch.setattr(verifier, "SYMPY_BUDGET_SECONDS", 1.0)
    for check in [matdiff.diff("det(inv(L⁻ᵀᵀ))", "L").verify(sizes={"m": 4}),
                  matdiff.diff("log det(R^(-1))", "R").verify(sizes={"m": 4}),
                  matdiff.hessian("ln det(ΦΦ′ + I)", "Φ").verify(sizes={"m": 4, "n": 3})]:
        assert check.ok and check.method == "central"
        assert "budget" in check.note and "budget" in check.summary()
    quick = matdiff.diff("xᵀAx", "x").verify()
    assert quick.ok and quick.method == "sympy" and not quick.note
