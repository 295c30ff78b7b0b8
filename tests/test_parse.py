"""Stage 1: the grammar and the transformer — every notation the brief lists."""
import logging

import pytest
from helpers import same_value

import matdiff
from matdiff.core.nodes import Add, Const, Identity, Mul, Symbol
from matdiff.language.parse import parse_surface

# Each row: a notation and a reference written with the plainest operators.
EQUIVALENT = [
    ("aᵀXb", "a^T X b"), ("a'Xb", "a^T X b"), ("a.T X b", "a^T X b"),
    ("a^{T} X b", "a^T X b"), ("a^\\top X b", "a^T X b"),
    ("aᵀ*X*b", "a^T X b"), ("aᵀ@X@b", "a^T X b"), ("aᵀ·X·b", "a^T X b"),
    ("(x−As)ᵀW(x−As)", "(x - A s)^T W (x - A s)"),
    ("X⁻¹", "inv(X)"), ("X^-1", "inv(X)"), ("X^{-1}", "inv(X)"), ("X^(-1)", "inv(X)"),
    ("X⁻ᵀ", "inv(X)^T"), ("X^-T", "inv(X)^T"),
    ("X²", "X X"), ("X^2", "X X"), ("X^3", "X X X"), ("X³", "X X X"),
    ("½xᵀx", "0.5 x^T x"), ("1/2 xᵀx", "0.5 x^T x"), ("xᵀx/2", "0.5 x^T x"),
    ("x ⊙ y", "x .* y"), ("x ∘ y", "x .* y"), ("x ./ y", "x .* (1 ./ y)"),
    ("‖x‖", "||x||"), ("‖x‖²", "x^T x"), ("||x||^2", "x^T x"), ("‖X‖_F²", "tr(X^T X)"),
    ("||X||_F", "sqrt(tr(X^T X))"), ("‖x‖₂", "||x||"),
    ("σ(Wx)", "sigmoid(W x)"), ("sigma(Wx)", "sigmoid(W x)"),
    ("log det X", "log(det(X))"), ("logdet(X)", "log(det(X))"), ("ln(det(X))", "log(det(X))"),
    ("trace(X)", "tr(X)"), ("Tr(X)", "tr(X)"), ("sum(x)", "x^T ones"),
    ("1 + exp(Ax)", "ones + exp(A x)"), ("W_1x", "W1 x"), ("W₁x", "W_1 x"),
    ("alpha x", "α x"), ("λ‖x‖²", "lambda x^T x"), ("2tr X", "2 tr(X)"),
    ("diag(x) y", "x .* y"), ("sum(diag(X))", "tr(X)"), ("x − A s", "x + (-1) A s"),
    ("-xᵀx", "(-1) x^T x"), ("x - -y", "x + y"), ("2 * -x", "-2 x"),
]


@pytest.mark.parametrize("notation, reference", EQUIVALENT)
def test_notations_have_the_meaning_a_reader_gives_them(notation, reference):
    reference = reference.replace("ones", "𝟏")
    assert same_value(notation, reference)


def test_unary_minus_binds_looser_than_juxtaposition():
    """x − A s is x − (As), never x·(−A)·s (the grammar pitfall STYLE.md records)."""
    tree = parse_surface("x - A s")
    assert isinstance(tree, Add)
    minus_as = tree.terms[1]
    assert isinstance(minus_as, Mul) and minus_as.factors[0] == Const(-1)


def test_letter_runs_are_products_of_single_letters():
    tree = parse_surface("Wx")
    assert [f.name for f in tree.factors] == ["W", "x"]


def test_declared_multi_letter_names_win_over_splitting():
    e = matdiff.parse("Wh x", shapes={"Wh": "m×n"})
    assert "Wh" in {s for s in str(e).split()}


def test_postfix_binds_to_the_last_letter_of_a_run():
    assert same_value("AXXᵀ", "A X (X^T)")


def test_subscripts_name_one_symbol():
    for text in ("W1", "W_1", "W₁", "W_{1}"):
        e = matdiff.parse(text)
        assert isinstance(e, Symbol) and e.name == "W_1"


def test_greek_is_scalar_and_I_is_the_identity():
    assert matdiff.parse("alpha").shape == ()
    assert isinstance(matdiff.parse("X + I").terms[1], Identity)


def test_sigma_is_a_function_after_a_letter_run():
    assert same_value("W₂σ(W₁x)", "W_2 sigmoid(W_1 x)")


def test_sigma_declared_as_a_symbol_multiplies():
    assert same_value("σ(x + y)", "σ x + σ y", shapes={"σ": "scalar"})


def test_norm_bars_nest_and_multiply():
    assert same_value("‖a‖‖b‖", "sqrt(a^T a) sqrt(b^T b)")
    assert same_value("‖x + ‖y‖x‖", "||x + sqrt(y^T y) x||")


def test_numbers():
    for text, v in [("2", 2), ("0.5", 0.5), ("1/2", 0.5), ("½", 0.5), (".25", 0.25)]:
        e = matdiff.parse(text)
        assert isinstance(e, Const) and float(e.value) == v


def test_grammar_has_no_lalr_conflicts(caplog):
    from lark import Lark, logger

    from matdiff.resources import grammar_path
    logger.setLevel(logging.DEBUG)
    with caplog.at_level(logging.DEBUG, logger="lark"):
        Lark(grammar_path().read_text(encoding="utf-8"), parser="lalr", debug=True)
    logger.setLevel(logging.WARNING)
    assert not [r for r in caplog.records if "conflict" in r.getMessage().lower()]


ERRORS = [
    ("aᵀX +", matdiff.ParseError, "end of input", 5),
    ("(aᵀX", matdiff.ParseError, "unbalanced '('", 1),
    ("aᵀX)", matdiff.ParseError, "unbalanced ')'", 4),
    ("a + * b", matdiff.ParseError, "unexpected operator '*'", 5),
    ("", matdiff.ParseError, "empty", 1),
    ("x $ y", matdiff.ParseError, "unexpected character '$'", 3),
    ("|x|", matdiff.ParseError, "single '|'", 1),
    ("sigmod(x)", matdiff.UnknownFunctionError, "did you mean 'sigmoid'", 1),
    ("tanhh(x)", matdiff.UnknownFunctionError, "did you mean 'tanh'", 1),
    ("foo(x)", matdiff.UnknownFunctionError, "unknown function 'foo'", 1),
    ("tr(X, Y)", matdiff.ParseError, "tr takes one argument", 1),
]


@pytest.mark.parametrize("text, kind, fragment, column", ERRORS)
def test_syntax_errors_are_typed_and_point_at_the_fault(text, kind, fragment, column):
    with pytest.raises(kind) as info:
        matdiff.parse(text)
    err = info.value
    assert isinstance(err, matdiff.MatdiffError) and isinstance(err, ValueError)
    assert fragment in str(err)
    assert err.column == column
    assert "^" in err.context()
