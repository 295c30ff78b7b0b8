"""Issue 8, the input side: every row of the "silent misreadings" table reads as the
writer means it or says what it guessed (a note).  Values are checked numerically."""
import json

import numpy as np
import pytest
from helpers import same_value

import matdiff
from matdiff.cli import main


def notes_of(text, **decl):
    return " | ".join(matdiff.parse(text, **decl).notes)


def checked(text, wrt, **decl):
    d = matdiff.diff(text, wrt, **decl)
    assert d.verify().ok, (text, wrt, d.pretty())
    return d


# ----- one test per row of the table ------------------------------------------------

@pytest.mark.parametrize("text, product, wrt, letter", [
    ("tr(F(X))", "tr(F·X)", "X", "F"), ("L(Wx)", "L·W·x", "W", "L")])
def test_a_letter_before_a_bracket_is_a_product_with_a_note(text, product, wrt, letter):
    assert same_value(text, product)
    assert f"'{letter}(…)' is read as the product {letter}·(…)" in notes_of(text)
    assert checked(text, wrt).notes


def test_a_letter_before_a_bracket_that_cannot_be_a_product_says_how_to_write_it():
    with pytest.raises(matdiff.ShapeError, match="no user-defined functions.*tanh"):
        matdiff.parse("f(x)")


def test_a_declared_letter_before_a_bracket_is_a_product_without_a_note():
    assert notes_of("W(x + b)", shapes={"W": "matrix"}) == ""


def test_a_square_inside_sum_of_a_matrix_is_entrywise():
    text = "sum((W₃ᵀW₂ᵀW₁ᵀX − Y)^2)"
    assert same_value(text, "sum((W₃ᵀW₂ᵀW₁ᵀX − Y) ⊙ (W₃ᵀW₂ᵀW₁ᵀX − Y))")
    e = matdiff.parse(text, shapes={"Y": (3, 2)})   # Y need not be square
    assert e.shape == ()
    assert "read entrywise" in notes_of(text)
    checked(text, "W_1")


def test_a_square_inside_sum_of_a_vector_is_entrywise():
    assert same_value("sum((Wx − y)^2)", "‖Wx − y‖²")
    checked("sum((Wx − y)^2)", "W")


def test_a_square_matrix_power_inside_sum_stays_a_power_with_a_note():
    e = matdiff.parse("sum(X^2)", shapes={"X": (3, 3)})
    assert same_value(e, matdiff.parse("sum(X X)", shapes={"X": (3, 3)}))
    assert "matrix power" in " ".join(e.notes)


def test_mu_is_the_mean_vector():
    text = "½(x − μ)ᵀΣ⁻¹(x − μ)"
    e = matdiff.parse(text)
    symbols = {s.name: s for s in matdiff.core.nodes.symbols_of(e).values()}
    assert symbols["μ"].shape[1] == 1 and symbols["μ"].shape == symbols["x"].shape
    assert "μ is read as a vector" in notes_of(text)
    assert same_value(text, "½(x − μ)ᵀΣ⁻¹(x − μ)", shapes={"μ": "vector"})
    d = checked(text, "μ")
    assert d.kind == "gradient" and d.shape == d.wrt.shape[:1]


def test_mu_transposed_next_to_a_row_is_a_vector():
    e = matdiff.parse("(xᵀ − μᵀ)A(x − μ)")
    assert e.shape == ()
    assert same_value(e, "(x − μ)ᵀA(x − μ)", shapes={"μ": "vector"})
    checked("(xᵀ − μᵀ)A(x − μ)", "μ")


def test_a_declared_scalar_mu_broadcasts_with_a_note():
    e = matdiff.parse("x − μ", shapes={"μ": "scalar"})
    assert "added to every entry" in " ".join(e.notes)
    checked("sum(x − μ)", "μ", shapes={"μ": "scalar"})


def test_lambda_added_to_a_matrix_is_lambda_identity():
    text = "log det(Σ + λ)"
    assert same_value(text, "log det(Σ + λI)")
    assert "read as λI" in notes_of(text)
    checked(text, "Σ")
    checked(text, "λ")


def test_a_declared_scalar_lambda_is_added_to_every_entry_with_a_note():
    decl = {"shapes": {"λ": "scalar", "Σ": (3, 3)}}
    assert same_value("Σ + λ", "Σ + λ𝟏𝟏ᵀ", **decl)
    assert "added to every entry of the matrix" in notes_of("Σ + λ", **decl)


def test_a_literal_number_broadcasts_silently():
    assert notes_of("1 + exp(Ax)") == ""
    assert same_value("1 + exp(Ax)", "𝟏 + exp(Ax)")


def test_a_misspelled_keyword_in_let_is_an_error_with_a_suggestion():
    with pytest.raises(matdiff.DeclarationError, match="did you mean 'symmetric'"):
        matdiff.parse("X", shapes="X: symetric")
    with pytest.raises(matdiff.DeclarationError, match="did you mean 'scalar'"):
        matdiff.parse("c x", shapes="c: scaler")
    # a dimension name is an identifier
    assert matdiff.parse("x", shapes="x: n").shape == ("n", 1)
    assert matdiff.parse("x", shapes="x: vector rows").shape == ("rows", 1)
    with pytest.raises(matdiff.DeclarationError, match="did you mean 'symmetric'"):
        matdiff.parse("X", shapes="X: matrix symetric")


def test_a_variable_that_does_not_occur_names_the_nearest():
    d = matdiff.diff("½‖σ(Wx) − y‖²", "w")
    assert any("w does not occur" in n and "did you mean W?" in n for n in d.notes)
    values = {"W": np.ones((2, 3)), "x": np.arange(3.0), "y": np.ones(2), "w": np.ones(4)}
    assert np.allclose(d.evaluate(values), 0)


def test_a_variable_with_only_subscripted_cousins():
    d = matdiff.diff("5x₁ + 3x₂", "x")
    assert any("x does not occur" in n and "x₁" in n and "x₂" in n for n in d.notes)
    assert not matdiff.diff("5x₁ + 3x₂", "x_1").notes


@pytest.mark.parametrize("text, meant, wrt, decl", [
    ("tr XᵀAX", "tr(XᵀAX)", "X", {}),
    ("log det XᵀX", "log(det(XᵀX))", "X", {"shapes": {"X": (4, 3)}}),
    ("tr Σ⁻¹ S", "tr(Σ⁻¹S)", "S", {}),
])
def test_a_prefix_function_takes_the_whole_product(text, meant, wrt, decl):
    assert same_value(text, meant, **decl)
    assert "applies to the whole product" in notes_of(text, **decl)
    checked(text, wrt, **decl)


def test_a_prefix_function_stops_at_a_sum_and_after_a_factor():
    assert same_value("α tr X + tr Y", "α·tr(X) + tr(Y)")
    assert notes_of("log det X") == ""


@pytest.mark.parametrize("text, meant", [
    ("log det(X) aᵀx", "log(det(X))·(aᵀx)"), ("tr (A)B", "tr(A)·B"),
    ("α log det(X) x", "α·log(det(X))·x")])
def test_a_prefix_function_before_brackets_takes_the_bracketed_factor(text, meant):
    """What the printer writes (log det(X)a) reads back as printed."""
    assert same_value(text, meant)
    assert notes_of(text) == ""


def test_a_newline_never_multiplies():
    with pytest.raises(matdiff.ParseError, match="definitions"):
        matdiff.parse("Wx + b\nσ(h)\nyᵀh")
    assert same_value("aᵀx +\n bᵀx", "aᵀx + bᵀx")


def test_double_struck_one_is_the_ones_vector():
    e = matdiff.parse("b𝟙ᵀ")
    assert len(e.shape) == 2 and e.shape[0] != 1 and e.shape[1] != 1
    assert same_value("b𝟙ᵀ", "b𝟏ᵀ")


@pytest.mark.parametrize("text, meant, wrt", [
    ("W₂tanh(W₁x + b₁)", "W₂·tanh(W₁x + b₁)", "W_1"),
    ("Wtanh(x)", "W·tanh(x)", "x"),
    ("Aexp(x)", "A·exp(x)", "x"),
    ("Atr(X)", "tr(X)·A", "X"),
    ("Bdiag(x)C", "B·diag(x)·C", "x"),
])
def test_word_functions_glued_to_a_factor(text, meant, wrt):
    assert same_value(text, meant)
    checked(text, wrt)


def test_two_wrt_flags_are_both_variables(capsys):
    """--wrt x --wrt A used to keep only A, silently: now both, as --wrt x,A (stacked)."""
    code = main(["diff", "xᵀAx", "--wrt", "x", "--wrt", "A", "--json"])
    both = capsys.readouterr().out
    assert code == 0
    assert main(["diff", "xᵀAx", "--wrt", "x,A", "--json"]) == 0
    assert capsys.readouterr().out == both


def test_full_width_forms_and_the_korean_middle_dot():
    assert same_value("（Ａx）", "Ax")
    assert same_value("AㆍB", "A·B")
    with pytest.raises(matdiff.ParseError) as info:
        matdiff.parse("（Ａx）ㆍ")
    assert info.value.column == 5 and "（Ａx）ㆍ" in str(info.value)


# ----- the notes plumbing ---------------------------------------------------------------

def test_no_guess_no_note():
    assert matdiff.parse("aᵀXb").notes == ()
    assert matdiff.diff("aᵀXb", "X").notes == []


def test_cli_prints_notes_on_stderr_and_json_carries_them(capsys):
    code = main(["diff", "tr XᵀAX", "--wrt", "X"])
    out, err = capsys.readouterr()
    assert code == 0 and err.startswith("note: ") and "tr(XᵀAX)" in err
    assert "note" not in out
    code = main(["diff", "tr XᵀAX", "--wrt", "X", "--json"])
    out, _ = capsys.readouterr()
    assert any("whole product" in n for n in json.loads(out)["notes"])


def test_mixed_hessian_by_an_absent_variable_says_so():
    h = matdiff.hessian("xᵀAx", "x", "a")
    assert any("a does not occur" in n and "A" in n for n in h.notes)


def test_hessian_keeps_the_notes():
    h = matdiff.hessian("½(x − μ)ᵀΣ⁻¹(x − μ)", "μ")
    assert any("μ is read as a vector" in n for n in h.notes)
    assert h.verify().ok
