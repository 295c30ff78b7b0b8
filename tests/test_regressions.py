"""Named regression tests: every wrong answer or crash the fuzzer (tests/test_fuzz.py)
found, kept so that it cannot come back."""
import numpy as np
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


# ----- issue 8: input bugs --------------------------------------------------------------

@pytest.mark.parametrize("letter", ["σ", "α"])
def test_declared_scalar_before_a_bracket_reads_the_same_for_every_letter(letter):
    """'tanh σ (x)' read as tanh(σx) while 'tanh α (x)' read as tanh(α)·x: a declared σ
    followed by '(' was swallowed as the sigmoid's call.  Both are tanh(σx) now (a
    prefix function takes the whole product)."""
    decl = {"shapes": {letter: "scalar"}}
    assert same_value(f"tanh {letter} (x)", f"tanh({letter}·x)", **decl)
    assert matdiff.diff(f"tanh {letter} (x)", "x", **decl).verify().ok


def test_undeclared_sigma_before_a_bracket_is_still_the_sigmoid():
    assert same_value("tanh σ (x)", "tanh(sigmoid(x))")


@pytest.mark.parametrize("text, meant", [
    ("x^TA(y + z)", "xᵀA(y + z)"), ("e^\\top(l − g)", "eᵀ(l − g)")])
def test_transpose_before_a_bracket_is_not_a_function(text, meant):
    """'TA' and 'top' were refused as unknown functions."""
    assert same_value(text, meant)


def test_adjacent_closing_norm_bars():
    """‖t/‖t‖‖: the two closing bars lexed as one '||' token."""
    e = matdiff.parse("‖t/‖t‖‖")
    assert same_value(e, matdiff.parse("‖t/(‖t‖)‖"))
    from helpers import value, values_for
    assert np.isclose(value(e, values_for(e)), 1.0)
    assert same_value("‖a‖‖b‖", "‖a‖·‖b‖") and same_value("||a|| ||b||", "‖a‖·‖b‖")


def test_explicit_star_keeps_a_juxtaposed_product_together():
    """A * xᵀy was the chain A·xᵀ·y (a shape error) while A(xᵀy) worked."""
    assert same_value("A * xᵀy", "A(xᵀy)")
    assert same_value("A * B C", "A(BC)")


def test_declared_name_that_is_a_prefix_of_a_longer_subscript():
    """parse('n_12', shapes={'n_1': (3,)}) crashed with a lark VisitError."""
    e = matdiff.parse("n_12", shapes={"n_1": (3,)})
    assert e.name == "n_12" and e.shape[1] == 1


def test_digits_then_subscript_digits_is_a_parse_error():
    """x1₂ (digits, then subscript digits) crashed the name splitter."""
    with pytest.raises(matdiff.ParseError):
        matdiff.parse("x/x1₂")
