"""Textbook forms of ML losses: each printed form is the book's, reads back, and is the
verified derivative (sympy, and the read-back text checked by value too)."""
import pytest

import matdiff

CASES = [
    # (expression, variable, declarations, the textbook form)
    ("−yᵀlog(softmax(Wx))", "W", None, "((𝟏ᵀy)softmax(Wx) − y)xᵀ"),
    ("−yᵀlog(σ(Xw)) − (1 − y)ᵀlog(1 − σ(Xw))", "w", None, "Xᵀ(σ(Xw) − y)"),
    ("log(exp(x) + 1)", "x", "x: scalar", "σ(x)"),
    ("log(1 + exp(x))", "x", "x: scalar", "σ(x)"),
    ("log(1 + exp(aᵀx))", "x", None, "σ(aᵀx)a"),
    ("1/(1 + exp(−x))", "x", "x: scalar", "σ(x)(1 − σ(x))"),
    ("exp(x)/(1 + exp(x))", "x", "x: scalar", "σ(x)(1 − σ(x))"),
    ("log det(XᵀX)", "X", None, "2X(XᵀX)⁻¹"),
    ("log det(XᵀCX)", "X", "C: symmetric", "2CX(XᵀCX)⁻¹"),
]


@pytest.mark.parametrize("expr, wrt, decl, book", CASES)
def test_loss_prints_in_textbook_form(expr, wrt, decl, book):
    d = matdiff.diff(expr, wrt, shapes=decl)
    assert d.pretty().replace(" (", "(") == book   # the printer may space 2CX (…)
    sizes = {"m": 4, "n": 2}   # X m×n with m > n: XᵀX invertible
    assert d.verify(sizes=sizes).ok
    assert matdiff.verify(expr, wrt, d.text(), shapes=decl, sizes=sizes).ok


def test_logistic_hessian():
    h = matdiff.hessian("log(1 + exp(aᵀx))", "x")
    assert h.pretty() == "σ(aᵀx)(1 − σ(aᵀx))aaᵀ"
    assert h.verify().ok


def test_rules_keep_values():
    from tests.helpers import same_value
    assert same_value("(u ./ v) .* v", "u")
    assert same_value("𝟏ᵀsoftmax(z)", "1", shapes="z: vector n")
    assert same_value("((u ./ v))ᵀv", "𝟏ᵀu")
    assert same_value("(1 − y) .* s − y .* (1 − s)", "s − y", shapes="y, s: vector n")
    for a, b in [("(u ./ v) .* v", "u"), ("((u ./ v))ᵀv", "𝟏ᵀu"),
                 ("(1 − y) .* s − y .* (1 − s)", "s − y")]:
        assert matdiff.simplify(matdiff.parse(a, shapes="y, s, u, v: vector n")) == \
            matdiff.parse(b, shapes="y, s, u, v: vector n")


def test_probability_vector_gives_the_softmax_cross_entropy_of_the_book():
    d = matdiff.diff("−yᵀlog(softmax(Wx))", "W", shapes="y: probability")
    assert d.pretty() == "(softmax(Wx) − y)xᵀ"
    assert d.verify().ok and d.verify(method="central").ok
    # without the declaration the factor 𝟏ᵀy stays: the two differ for a y not summing to 1
    plain = matdiff.diff("−yᵀlog(softmax(Wx))", "W")
    assert plain.pretty() == "((𝟏ᵀy)softmax(Wx) − y)xᵀ"
    assert not matdiff.verify("−yᵀlog(softmax(Wx))", "W", "(softmax(Wx) − y)xᵀ").ok
    assert matdiff.simplify(matdiff.parse("sum(y)", shapes="y: probability")) == \
        matdiff.parse("1")


def test_probability_declarations_and_values():
    import numpy as np
    with pytest.raises(matdiff.DeclarationError):
        matdiff.parse("yᵀA", shapes="y: probability m×n")
    e = matdiff.parse("yᵀa", shapes="y: probability 3")
    from matdiff.check.evaluate import evaluate
    assert np.isclose(evaluate(e, {"y": [0.2, 0.3, 0.5], "a": [1, 1, 1]}), 1.0)
    with pytest.raises(matdiff.EvaluationError):
        evaluate(e, {"y": [0.2, 0.3, 0.6], "a": [1, 1, 1]})


@pytest.mark.parametrize("expr, wrt, book", [
    ("(xᵀAx)²", "x", "2(xᵀAx)(A + Aᵀ)x"),
    ("log(xᵀAx)", "A", "xxᵀ/(xᵀAx)"),
    ("(xᵀAx)(xᵀAᵀx)", "x", "2(xᵀAx)(A + Aᵀ)x"),
])
def test_quadratic_form_keeps_the_orientation_with_fewer_transposes(expr, wrt, book):
    d = matdiff.diff(expr, wrt)
    assert d.pretty() == book and "xᵀAᵀx" not in d.pretty()
    assert d.verify().ok
