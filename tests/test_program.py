"""Programs of definitions: statements in order, shapes flowing through them, derivatives
of the last (or a named) statement, printed with the defined names."""
import numpy as np
import pytest
from helpers import same_value, values_for

import matdiff
from matdiff.core.nodes import symbols_of
from matdiff.cli import main

NET = "h = σ(W₁x + b₁); ŷ = W₂h + b₂; L = ½‖ŷ − y‖²"


def test_statements_are_ordered_and_shapes_flow():
    p = matdiff.parse_program(NET)
    assert p.names == ["h", "ŷ", "L"]
    assert p.shapes["h"] == p.shapes["b_1"] == (p.shapes["W_1"][0], 1)
    assert p.shapes["W_2"][1] == p.shapes["h"][0] and p.shapes["L"] == ()
    assert set(p.symbols) == {"W_1", "x", "b_1", "W_2", "b_2", "y"}
    assert matdiff.to_pretty(p.definitions["ŷ"]) == "W₂h + b₂"


SEED_000 = ("H_1 = W_1^T X\nH_2 = W_2^T H_1\n\\hat{Y} = W_3^T H_2\n"
            "L(\\theta) = \\sum (\\hat{Y} - Y)^2")


@pytest.mark.parametrize("program, wrt, printed", [
    (NET, "W2", "(ŷ − y)hᵀ"),
    (NET, "W_1", "(W₂ᵀ(ŷ − y) ⊙ h ⊙ (1 − h))xᵀ"),
    (NET, "b2", "ŷ − y"),
    (NET, "h", "W₂ᵀ(ŷ − y)"),   # a defined name as the variable stays a symbol
    (SEED_000, "W_3", "2H₂(Ŷᵀ − Yᵀ)"),   # seed 000's network, as its backprop reads
    (SEED_000, "W_2", "2H₁(Ŷᵀ − Yᵀ)W₃ᵀ"),
])
def test_gradients_print_with_the_defined_names_and_verify(program, wrt, printed):
    d = matdiff.diff(program, wrt)
    assert d.pretty() == printed
    assert d.verify().ok
    p = d.program   # the printed form has the derivative's value once names are bound
    values = values_for(p.expr(), seed=3)
    named = {**values, **p.values(values)}
    folded = matdiff.parse(d.text(), shapes=p.shapes)
    assert np.allclose(folded.evaluate(only(named, folded)), d.evaluate(only(named, d.expr)))


def only(values, e):
    return {k: v for k, v in values.items() if k in symbols_of(e)}


def test_of_names_the_statement_and_newlines_separate():
    d = matdiff.diff("h = Wx\n\nŷ = Vh\nL = ŷᵀŷ", "W", of="ŷ")
    assert d.kind == "tensor" and d.verify().ok
    with pytest.raises(matdiff.MatdiffError, match="not defined"):
        matdiff.diff("h = Wx; L = hᵀh", "W", of="z")


def test_latex_program_with_function_notation():
    d = matdiff.diff("\\mathbf{h} = \\sigma(\\mathbf{W}\\mathbf{x}) \\\\ "
                     "L(\\theta) = \\frac{1}{2}\\|\\mathbf{h} - \\mathbf{y}\\|^2", "W")
    assert d.verify().ok
    assert same_value(d.result, "((σ(Wx) − y) ⊙ σ(Wx) ⊙ (1 − σ(Wx))) xᵀ",
                      shapes={n: s.shape for n, s in d.symbols.items()})


def test_hessian_of_a_program():
    h = matdiff.hessian("r = Ax − b; L = rᵀr", "x")
    assert h.pretty() == "2AᵀA" and h.verify().ok


@pytest.mark.parametrize("text, fragment, column", [
    ("h = Wx; h = Vh", "defined twice", 9),
    ("h = Wx; L = hᵀ + ", "unexpected end of input", 16),
    ("h + 1 = Wx", "must be a name", 1),
])
def test_program_errors_point_into_the_program(text, fragment, column):
    with pytest.raises(matdiff.ParseError) as info:
        matdiff.parse_program(text)
    assert fragment in str(info.value) and info.value.column == column, str(info.value)


def test_cli_reads_a_program_from_a_file_and_stdin(tmp_path, capsys, monkeypatch):
    notes = tmp_path / "notes.txt"
    notes.write_text(NET.replace("; ", "\n"), encoding="utf-8")
    assert main(["diff", "-f", str(notes), "--wrt", "W2", "--check"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("(ŷ − y)hᵀ\n") and "check passed" in out
    import io
    monkeypatch.setattr("sys.stdin", io.StringIO(NET))
    assert main(["diff", "-", "--wrt", "b2"]) == 0
    assert capsys.readouterr().out.startswith("ŷ − y\n")
    assert main(["diff", "-f", str(tmp_path / "missing.txt"), "--wrt", "x"]) == 1
    assert "cannot read" in capsys.readouterr().err


def test_readings_that_decide_the_meaning_are_noted(capsys):
    p = matdiff.parse_program(SEED_000)
    assert any("argument list" in n for n in p.notes)
    assert any("sum of all entries" in n for n in p.notes)
    assert matdiff.parse_program(NET).notes == []
    assert main(["diff", SEED_000, "--wrt", "W_3"]) == 0
    assert "note: L: \\sum without an index" in capsys.readouterr().out


def test_cli_shapes_of_a_program(capsys):
    assert main(["shapes", "y = Wx; L = gᵀy"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "W: m×n (symbol)" in lines and "y: vector m (defined)" in lines
    assert "L: scalar (defined)" in lines
