"""Stage 2: default shapes, unification, declarations and shape errors."""
import pytest

import matdiff
from matdiff.core.shapes import Decl, parse_declarations, parse_spec


def shapes_of(text, **decl):
    from matdiff.api import _typed
    _, symbols, _ = _typed(text, decl.get("shapes"), decl.get("symmetric", ()))
    return {n: s.shape for n, s in symbols.items()}


def test_defaults_and_unification():
    s = shapes_of("aᵀXb")
    assert s["a"] == (s["X"][0], 1) and s["b"] == (s["X"][1], 1)
    assert s["X"][0] != s["X"][1]
    s = shapes_of("x'Ax")
    assert s["A"][0] == s["A"][1] == s["x"][0]
    assert shapes_of("alpha x")["α"] == ()
    assert len(shapes_of("Σ")["Σ"]) == 2   # uppercase Greek: a matrix


def test_scalar_valued_products_stay_scalars():
    """aᵀb c is the scalar aᵀb times the vector c (1×1 is a scalar in one place)."""
    assert matdiff.parse("aᵀbc").shape[1] == 1
    assert matdiff.parse("X(aᵀb)").shape == matdiff.parse("X").shape


def test_declarations_override_defaults():
    s = shapes_of("c x + A y", shapes={"c": (), "A": (3, "n"), "x": (3,)})
    assert s["c"] == () and s["A"] == (3, "n") and s["x"] == (3, 1) and s["y"] == ("n", 1)
    assert shapes_of("W", symmetric=["W"])["W"][0] == shapes_of("W", symmetric=["W"])["W"][1]


@pytest.mark.parametrize("spec, expected", [
    ("scalar", Decl(())), ("vector", Decl((None, 1))), ("vector 3", Decl((3, 1))),
    ("n", Decl(("n", 1))), ("m×n", Decl(("m", "n"))), ("m x n", Decl(("m", "n"))),
    ("(m, n)", Decl(("m", "n"))), ("matrix", Decl((None, None))),
    ("symmetric", Decl((None, None), True)), ("symmetric n", Decl(("n", "n"), True)),
    ((), Decl(())), (("n",), Decl(("n", 1))), (("m", 2), Decl(("m", 2))),
])
def test_declaration_syntax(spec, expected):
    assert parse_spec(spec) == expected


def test_let_syntax_combines_entries():
    d = parse_declarations("c: scalar; A: m×n; W: symmetric; x1, x2: scalar")
    assert d["c"].shape == () and d["A"].shape == ("m", "n") and d["W"].symmetric
    assert d["x_1"].shape == () and d["x_2"].shape == ()


@pytest.mark.parametrize("bad", ["c scalar", "x: vector m×n", "1x: scalar", "A: m×n×k", "x: 0"])
def test_bad_declarations(bad):
    with pytest.raises(matdiff.DeclarationError):
        matdiff.parse("x", shapes=bad)


SHAPE_ERRORS = [
    ("xW", "cannot multiply", ("n×1", "m×k"), "xW"),
    ("A + x", "cannot add", ("×", "×1"), "A + x"),
    ("tr(x)", "tr needs a square matrix", ("×1",), "x"),
    ("det(aᵀ)", "det needs a square matrix", ("1×",), "aᵀ"),
    ("X / Y", "divides by a scalar", ("×",), "X / Y"),
    ("‖X‖", "Frobenius", (), "‖X‖"),
    ("x ⊙ A", "entrywise product", ("×1",), "x ⊙ A"),
    ("x²", "vector", ("×1",), "x²"),
]


@pytest.mark.parametrize("text, fragment, shapes, marked", SHAPE_ERRORS)
def test_shape_errors_quote_shapes_and_source(text, fragment, shapes, marked):
    with pytest.raises(matdiff.ShapeError) as info:
        matdiff.parse(text)
    message = str(info.value)
    assert fragment in message
    for s in shapes:
        assert s in message
    start, end = info.value.span
    assert text[start:end] == marked


def test_declared_dims_must_agree():
    with pytest.raises(matdiff.ShapeError):
        matdiff.parse("Ax", shapes={"A": ("m", "n"), "x": ("k",)})
    with pytest.raises(matdiff.ShapeError):
        matdiff.parse("Ax", shapes={"A": (2, 3), "x": (4,)})
