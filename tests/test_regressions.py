"""Named regression tests: every wrong answer or crash the fuzzer (tests/test_fuzz.py)
found, kept so that it cannot come back."""
import numpy as np
import pytest
from helpers import same_value

import matdiff
from matdiff.api import parse_like
from matdiff.core.nodes import symbols_of
from matdiff.language.render import to_pretty, to_text


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
    assert matdiff.to_pretty(e) == "tr(I_m) + tr(C)" and same_value(original, e)


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
    assert matdiff.to_pretty(e) == "x + 𝟏/tr(I_m)" and same_value(original, e)
    sig = matdiff.parse("σ(x − x)")
    assert matdiff.to_pretty(matdiff.simplify(sig)) == "½𝟏_m"
    assert same_value(sig, matdiff.simplify(sig))


def test_fuzz_central_differences_allow_for_rounding():
    """det(C)² + det(B): |f| ≈ 10⁵ makes central differences lose ~10⁻⁵ to rounding;
    the check's tolerance now includes that, instead of failing a right gradient."""
    d = matdiff.diff("((det(C))²) + (det(B))", "B", shapes="B: n×n; C: m×m")
    assert d.verify(method="central").ok and d.verify().ok


def test_fuzz_a_lone_ones_vector_reads_back_with_its_size():
    """(1 + (x − x))/(1 + (xᵀx)²) is 𝟏/(1 + (xᵀx)²): nothing else fixes the length of 𝟏,
    so it prints as 𝟏_m (it used to print a bare 𝟏, whose size nothing fixed)."""
    e = matdiff.simplify(matdiff.parse("(1 + ((x) − (x)))/(1 + ((x)ᵀ(x))²)"))
    for printed in (matdiff.to_text(e), matdiff.to_pretty(e)):
        assert "𝟏_m" in printed
        again = parse_like(printed, symbols_of(e))
        assert again.shape == e.shape and same_value(e, again)



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


# ----- issue 8: printed forms that lied or did not read back ------------------------------

def reads_back(e, symbols=None, names=()):
    """Text and Unicode of e parse back (with e's symbols' shapes) to e's shape and value."""
    symbols = symbols or symbols_of(e)
    for printed in (to_text(e, names=names), to_pretty(e, names=names)):
        again = parse_like(printed, symbols)
        assert again.shape == e.shape and same_value(e, again), printed
    return to_pretty(e, names=names)


def test_issue8_a_quotient_under_elementwise_division_keeps_its_brackets():
    """sum(y ./ (x/α)) by y printed 𝟏 ./ x/α, which reads back as (𝟏 ./ x)/α."""
    d = matdiff.diff("sum(y ./ (x/α))", "y")
    assert reads_back(d.result, d.symbols) == "𝟏 ./ (x/α)"
    assert d.verify(method="central").ok


def test_issue8_a_fraction_as_a_power_base_keeps_its_brackets():
    """1/(1/2)^(1/2) printed as 1/1/2^(1/2)."""
    e = matdiff.parse("1/(1/2)^(1/2)")
    assert to_text(e) == "1/(1/2)^(1/2)"
    assert reads_back(e) == "1/½^(1/2)"


def test_issue8_every_right_operand_of_a_term_operator_is_a_unary():
    """a ⊙ (b ./ c), a ./ (b ⊙ c), a ./ (b/α), (x/α) ⊙ y print so that they read back."""
    for text in ("x ⊙ (z ./ y)", "x ./ (z ⊙ y)", "x ./ (z/α)", "(x/α) ⊙ z", "x ./ (−z)",
                 "x ⊙ (−z)", "(x ./ z) ./ y", "x ./ (z ./ y)"):
        reads_back(matdiff.parse(text, shapes="x, y, z: vector n"))


def test_issue8_ones_carry_their_size_where_nothing_fixes_it():
    """sum(zᵀU) by U printed z𝟏𝟏ᵀ (a matrix of ones, read back n×n): now z 𝟏_nᵀ."""
    d = matdiff.diff("sum(zᵀU)", "U")
    assert reads_back(d.result, d.symbols) == "z 𝟏_nᵀ"
    assert d.verify(method="central").ok
    d = matdiff.diff("sum(U)", "U")
    assert reads_back(d.result, d.symbols) == "𝟏_m𝟏_nᵀ"


def test_issue8_sigmoid_prints_as_a_word_when_sigma_is_a_symbol():
    """With σ a declared scalar, σ(x) reads as σ·x: sigmoid must print as sigmoid(x)."""
    d = matdiff.diff("σ sigmoid(x)", "σ", shapes="σ: scalar")
    printed = d.pretty()
    assert "sigmoid(" in printed and "σ(" not in printed
    reads_back(d.result, d.symbols, names=d.symbols)
    assert d.verify().ok


def test_issue8_a_log_det_is_never_glued_to_a_name():
    """τ log det(B) printed as τlog det(B) in Unicode, which reads as τ·l·o·g·det(B)."""
    e = matdiff.parse("τ logdet(B) + τ", shapes="τ: scalar")
    assert "τ log det(B)" in reads_back(e)


def test_issue8_kronecker_vec_and_commutation_read_back():
    """⊗, vec(·) and K_(m,n) were output only."""
    d = matdiff.diff("XᵀX", "X")
    assert reads_back(d.kron, d.symbols) == "(Xᵀ ⊗ I_n)K_(m,n) + I_n ⊗ Xᵀ"
    e = matdiff.parse("K_(m,n) vec(X) − vec(Xᵀ)", shapes="X: m×n")
    assert same_value(e, matdiff.parse("0_(n·m)", shapes="X: m×n")) or \
        same_value(e, matdiff.parse("0 vec(X)", shapes="X: m×n"))


def test_issue8_zeros_print_with_their_size():
    """A zero vector or matrix printed as 0 read back as the scalar 0."""
    from matdiff.core.nodes import Zero
    for shape, printed in (((3, 1), "0_3"), (("m", "n"), "0_(m×n)")):
        z = Zero(shape)
        assert to_pretty(z) == printed
        assert matdiff.parse(printed).shape == shape
    assert matdiff.parse("0_(m,n)").shape == ("m", "n")


def test_issue8_the_check_verifies_what_is_printed():
    """A wrong printed form with a right differential (diff("x yᵀ z", "x") printed I) was
    reported as 'check passed': the check now reads back and evaluates the printed form."""
    d = matdiff.diff("xᵀAx", "x")
    assert d.verify(method="central").ok and d.verify().ok
    d.result = matdiff.parse("A x", shapes={"A": d.symbols["A"].shape,
                                            "x": d.symbols["x"].shape})
    d._read_back = None
    for method in ("central", "sympy"):
        check = d.verify(method=method)
        assert not check.ok and "printed gradient" in check.summary()
    with pytest.raises(matdiff.VerificationError):
        d.verify(method="central").require()


def test_issue8_diff_with_check_raises_on_a_wrong_printed_form(monkeypatch):
    """matdiff.diff(..., check=True) verifies what is printed and raises when it is wrong."""
    assert matdiff.diff("aᵀXb", "X", check=True).verify(method="central").ok
    from matdiff import api
    wrong = api.Derivative._forms

    def forms(self):
        wrong(self)
        self.result = self.wrt if self.kind == "gradient" else self.result
    monkeypatch.setattr(api.Derivative, "_forms", forms)
    with pytest.raises(matdiff.VerificationError):
        matdiff.diff("aᵀXb", "X", check=True)


def test_issue8_the_cli_checks_by_default(capsys):
    from matdiff.cli import main
    assert main(["diff", "aᵀXb", "--wrt", "X"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-1].startswith("check passed (the printed gradient, read back") and \
        "central differences" in out[-1]
    assert main(["diff", "aᵀXb", "--wrt", "X", "--check"]) == 0
    assert "elementwise sympy" in capsys.readouterr().out.splitlines()[-1]
    assert main(["diff", "aᵀXb", "--wrt", "X", "--no-check"]) == 0
    assert "check" not in capsys.readouterr().out


def test_issue8_shared_where_forms_read_back():
    """`… where t₁ = tanh(x)` forms were output only."""
    d = matdiff.diff("tanh(tanh(tanh(tanh(x))))", "x")
    for printed in (d.text(shared=True), d.pretty(shared=True)):
        assert "where" in printed
        again = parse_like(printed, d.symbols)
        assert same_value(d.result, again), printed


def test_issue8_a_zero_matrix_inside_diag_reads_back():
    """diag((B − B)²) printed diag(0²): the zero read back as a scalar, and diag of a scalar
    is an error. Now diag(0_(n×n)²): a zero matrix with its size."""
    e = matdiff.simplify(matdiff.parse("diag((B − B)²) + x", shapes="B: n×n"))
    assert "0_(n×n)" in reads_back(e)


def test_issue8_the_check_reads_shared_where_forms_and_kronecker_forms():
    """The default check reads back what is printed, `where` names and ⊗ included."""
    for text, wrt in (("sum(tanh(tanh(tanh(tanh(tanh(tanh(x)))))))", "x"), ("XᵀX", "X"),
                      ("Wx", "W")):
        d = matdiff.diff(text, wrt, check=True)
        assert d.read_back().shape == d.main_form().shape
        assert same_value(d.main_form(), d.read_back())


def test_issue8_a_printed_form_that_does_not_read_back_fails_the_cli_check(monkeypatch, capsys):
    """If the printed text did not parse back, the CLI says 'check FAILED' and exits 1
    (the result is still shown)."""
    from matdiff import api
    from matdiff.cli import main
    monkeypatch.setattr(api.Derivative, "text", lambda self, shared=None: "a bᵀ +")
    assert main(["diff", "aᵀXb", "--wrt", "X"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "abᵀ" and out[-1].startswith("check FAILED: the printed gradient does "
                                                  "not read back")


def test_issue8_sizes_must_be_positive():
    """I_0, 𝟏_0 and 0_(0,2) are typed errors (found by the token fuzzer), not empty arrays."""
    for text in ("I_0", "𝟏_0 + x", "0_(0,2)"):
        with pytest.raises(matdiff.ParseError, match="must be positive"):
            matdiff.parse(text)
    assert matdiff.parse("I_3 + A").shape == (3, 3)



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


def test_issue9_trace_of_a_kronecker_product():
    """tr(A ⊗ X) (Matrix Cookbook 120) was a shape error (k·m×n·p is never square) and has no
    gradient rule through ⊗: it reads with A and X square and tr(A ⊗ X) = tr(A)tr(X)."""
    for wrt, other in (("X", "A"), ("A", "X")):
        d = matdiff.diff("tr(A ⊗ X)", wrt, shapes={"A": (2, 2), "X": (3, 3)})
        assert same_value(d.result, matdiff.parse(f"tr({other})I_{3 if wrt == 'X' else 2}",
                                                  shapes={"A": (2, 2), "X": (3, 3)}))
        assert d.verify().ok and d.verify(method="central").ok


def test_fuzz_latex_of_a_power_of_log_det_reads_back():
    """(log det C)² printed in LaTeX as \\log\\det(C)^{2}, which reads back as
    log(det(C)²) (found by the 2,000-example LaTeX read-back run)."""
    d = matdiff.diff("(y)ᵀ((y)/(1 + (logdet(C))²))", "y")
    again = matdiff.api.parse_like(d.latex(), d.symbols)
    assert same_value(d.result, again)


def test_fuzz_an_expression_divided_by_zero_is_refused_and_is_undefined():
    """x ./ ((x − x)/(1 + α²)) divides by zero: a DomainError, and its value is not finite
    (the fuzzer now checks every refusal this way, so a false one fails)."""
    with pytest.raises(matdiff.DomainError, match="divides by zero"):
        matdiff.diff("(y) ./ (((y) − (y))/(1 + (α)²))", "y")
    from helpers import value, values_for
    e = matdiff.parse("(y) ./ (((y) − (y))/(1 + (α)²))")
    with np.errstate(all="ignore"):
        assert not np.all(np.isfinite(value(e, values_for(e))))


def test_fuzz_transpose_of_an_entrywise_product_with_a_repeated_factor():
    """(B ⊙ Bᵀ ⊙ B)ᵀ was kept as B ⊙ Bᵀ ⊙ B (its factors compared as a set, not a
    multiset), so ∂tr((B ⊙ Bᵀ)²)/∂B was wrong off the diagonal (10,000-example run)."""
    e = matdiff.parse("(B ⊙ Bᵀ ⊙ B)ᵀ", shapes="B: n×n")
    assert same_value(matdiff.simplify(e), e)
    d = matdiff.diff("tr((B ⊙ Bᵀ)²)", "B")
    assert d.verify().ok and d.verify(method="central").ok


def test_fuzz_a_zero_numerator_is_not_a_division_by_zero():
    """((α − α)/(1 + α²))/(2 + α²))² by α: a factoring pass took (α − α) as a common base and
    divided by it, a false 'divides by zero'. The derivative is 0."""
    d = matdiff.diff("((((α) − (α))/(1 + (α)²))/(2 + (α)²))²", "α")
    assert d.pretty() == "0" and d.verify().ok


def test_the_sympy_budget_holds_when_its_interrupt_is_swallowed():
    """In a full test run the budget's one interrupt was sometimes lost (raised where
    Python ignores exceptions: a __del__, a GC callback), and sympy then ran for minutes;
    the interrupt now repeats until the block ends, and nothing fires after it."""
    import signal
    import time

    from matdiff.check.verifier import _OverBudget, _time_budget
    handler = signal.getsignal(signal.SIGALRM)
    started, swallowed = time.monotonic(), 0
    with pytest.raises(_OverBudget):
        with _time_budget(0.05):
            while time.monotonic() - started < 5:
                try:
                    time.sleep(0.01)
                except _OverBudget:
                    if swallowed:
                        raise
                    swallowed += 1      # the first interrupt is lost, as in a __del__
    assert swallowed == 1 and time.monotonic() - started < 2
    time.sleep(0.3)                     # no interrupt after the block
    assert signal.getsignal(signal.SIGALRM) == handler
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_the_sympy_budget_holds_outside_the_main_thread(monkeypatch):
    """The interval timer only works in the main thread: a check run from a worker thread
    (a server, a notebook's executor) ran unbounded. There a watchdog raises the
    interrupt into the thread, repeated until the block ends, and nothing after it."""
    import threading
    import time

    import matdiff.check.verifier as verifier
    monkeypatch.setattr(verifier, "SYMPY_BUDGET_SECONDS", 1.0)
    out = {}

    def work():
        started, swallowed = time.monotonic(), 0
        try:
            with verifier._time_budget(0.05):
                while time.monotonic() - started < 5:
                    try:
                        time.sleep(0.01)
                    except verifier._OverBudget:
                        if swallowed:
                            raise
                        swallowed += 1
        except verifier._OverBudget:
            out["interrupted"] = (swallowed, time.monotonic() - started)
        time.sleep(0.3)                  # no interrupt after the block
        out["check"] = matdiff.diff("det(inv(L⁻ᵀᵀ))", "L").verify(sizes={"m": 4})

    worker = threading.Thread(target=work)
    worker.start()
    worker.join(120)
    assert not worker.is_alive()
    swallowed, seconds = out["interrupted"]
    assert swallowed == 1 and seconds < 2
    assert out["check"].ok and out["check"].method == "central"
    assert "budget" in out["check"].note


def test_fuzz_latex_fractional_power_reads_back():
    """1/(½ + α²)^(1/2) by α printed a power ^{\\frac{1}{2}} that the LaTeX reader refused
    (2,000-example LaTeX read-back run)."""
    d = matdiff.diff("1/(1/2 + (α)²)^(1/2)", "α")
    again = matdiff.api.parse_like(d.latex(), d.symbols)
    assert same_value(d.result, again)
    assert same_value(r"\left(\frac{1}{2} + \alpha^{2}\right)^{1/2}", "(1/2 + α²)^(1/2)")


def test_hessian_of_a_softmax_quotient_does_not_retranspose_shared_subtrees():
    """Found by a search over random Hessians (benchmarks/hessian_search.py): factoring
    transposed every sum it met, re-transposing shared subtrees each time (284,582 node
    reads, 3.7 s); the pushed transpose is now memoised on the node (about 40,000)."""
    from helpers import node_reads
    shapes = "x: vector n"
    text = "logsumexp(softmax(x ./ (x/(1 + α²))))"
    out = []
    reads = node_reads(lambda: out.append(matdiff.hessian(text, "x", shapes=shapes)))
    assert reads < 100_000, reads
    assert out[0].verify(method="central").ok


def test_printing_does_not_name_every_subexpression_for_notes_no_one_reads():
    """Found by the fuzzer's work property (10,000-example run): printing re-reads the
    result to find which I and 𝟏 need their size, and that re-reading wrote a note for
    every broadcast scalar, naming subexpressions by printing them, which re-read them in
    turn: the Hessian of sum(x ⊙ x ./ (2 + x ⊙ (I + B)x)) by B took 92,821 node reads and
    1 s to print 174 characters. Notes are now written only where someone reads them."""
    from helpers import node_reads
    text = "sum((x) .* (x) ./ (2 + (x) .* ((I + (B))(x))))"
    out = []
    reads = node_reads(lambda: out.append(matdiff.hessian(text, "B", shapes="x: vector n")
                                          .pretty()))
    assert reads < 10_000, reads
    h = matdiff.hessian(text, "B", shapes="x: vector n")
    assert h.verify(method="central").ok
    assert "is added to every entry" in " ".join(matdiff.parse("sin(α) + x").notes)


def test_fuzz_a_negative_quotient_after_elementwise_division_keeps_its_brackets():
    """sum(x ./ ((x − x − x)/(1 + α²))) by x printed 𝟏 ./ −x/(1 + α²) − …, which reads
    back as (𝟏 ./ (−x))/(1 + α²): −x/c is (−x)/c to the parser, a quotient, and needs
    brackets after ./ (found by the 10,000-example run of the printed-forms property)."""
    d = matdiff.diff("sum((x) ./ ((((x) − (x)) − (x))/(1 + (α)²)))", "x")
    assert "./ (−x/(1 + α²))" in d.pretty()
    assert d.verify(method="central").ok and d.verify().ok
    for text in ["y ./ (−x/α)", "A(−x/α)", "(−x/α) ⊙ y", "−(x/α)ᵀy"]:
        e = matdiff.parse(text)
        for printed in (matdiff.language.render.to_pretty(e), matdiff.language.render.to_text(e)):
            assert same_value(e, matdiff.api.parse_like(printed, matdiff.core.nodes.symbols_of(e)))


def test_fuzz_central_differences_allow_for_the_rounding_of_cancelling_terms():
    """The mixed Hessian of sum(x ./ ((x ./ (z/(1 + α²)))/(1 + det(C)²))) by x and z is 0,
    written as terms of size 1 + det(C)² that cancel; central differences of it carry
    rounding of ε·|term|/h (7e-6 here), and the check took that for an error (found by the
    10,000-example mixed-Hessian run). The tolerance now allows 8ε·|largest term|/h."""
    h = matdiff.hessian("sum((x) ./ (((x) ./ ((z)/(1 + (α)²)))/(1 + (det(C))²)))", "x", "z")
    assert h.verify(method="central").ok and h.verify().ok
    text = "sum((x) ./ (((x) ./ ((z)/(1 + (α)²)))/(1 + (det(C))²)))"
    assert matdiff.diff(text, "z").verify(method="central").ok
    d = matdiff.diff(text, "z")
    d.result = matdiff.api.parse_like(f"1.0001({d.text()})", d.symbols)   # off by 0.01 %
    assert not d.verify(method="central").ok   # the looser tolerance still sees this
