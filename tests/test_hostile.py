"""A catalogue of hostile input: the exact error type and the words each one gets."""
import re
from pathlib import Path

import numpy as np
import pytest

import matdiff
from matdiff.cli import main

CATALOGUE = [
    # (input, declarations, error type, fragments of the message)
    ("(aᵀX", "", matdiff.ParseError, ["unbalanced '('", "column 1"]),
    ("aᵀX))", "", matdiff.ParseError, ["unbalanced ')'", "column 4"]),
    ("tr(X", "", matdiff.ParseError, ["unbalanced '('"]),
    ("‖x", "", matdiff.ParseError, ["end of input"]),
    ("x +", "", matdiff.ParseError, ["end of input", "operand is missing"]),
    ("x + * y", "", matdiff.ParseError, ["unexpected operator '*'"]),
    ("* x", "", matdiff.ParseError, ["unexpected operator '*'"]),
    ("x ⊙", "", matdiff.ParseError, ["end of input"]),
    ("xᵀ ᵀ ᵀ +", "", matdiff.ParseError, ["end of input"]),
    ("", "", matdiff.ParseError, ["empty expression"]),
    ("   ", "", matdiff.ParseError, ["empty expression"]),
    ("sigmod(Wx)", "", matdiff.UnknownFunctionError, ["unknown function 'sigmod'",
                                                      "did you mean 'sigmoid'"]),
    ("tarce(X)", "", matdiff.UnknownFunctionError, ["did you mean 'trace'"]),
    ("softmx(x)", "", matdiff.UnknownFunctionError, ["did you mean 'softmax'"]),
    ("frobnicate(x)", "", matdiff.UnknownFunctionError, ["unknown function 'frobnicate'",
                                                         "known functions"]),
    ("A + x", "", matdiff.ShapeError, ["cannot add", "n×m", "n×1"]),
    ("xᵀA", "A: m×n; x: vector k", matdiff.ShapeError, ["cannot multiply", "1×k", "m×n"]),
    ("x ⊙ y", "x: vector 2; y: vector 3", matdiff.ShapeError, ["entrywise", "2×1", "3×1"]),
    ("det(A)", "A: m×n", matdiff.ShapeError, ["det needs a square matrix", "m×n"]),
    ("tr(A)", "A: 2×3", matdiff.ShapeError, ["tr needs a square matrix", "2×3"]),
    ("inv(x)", "", matdiff.ShapeError, ["inverse needs a square matrix", "×1"]),
    ("logdet(aᵀ)", "", matdiff.ShapeError, ["logdet needs a square matrix", "1×"]),
    ("softmax(α)", "", matdiff.ShapeError, ["softmax needs a column vector"]),
    ("x / y", "", matdiff.ShapeError, ["divides by a scalar"]),
    ("|x|", "", matdiff.ParseError, ["single '|'"]),
    ("x; import os", "", matdiff.ParseError, ["unexpected character ';'"]),
    ("__import__('os').system('ls')", "", matdiff.ParseError, ["unexpected character '_'"]),
    ("eval(x)", "", matdiff.UnknownFunctionError, ["unknown function 'eval'"]),
    ("exec('x')", "", matdiff.UnknownFunctionError, ["unknown function 'exec'"]),
    ("x` + y", "", matdiff.ParseError, ["unexpected character '`'"]),
    ("\\input{/etc/passwd}", "", matdiff.UnknownFunctionError,
     ["unknown LaTeX command '\\\\input'"]),
    ("x}\\end{document}", "", matdiff.ParseError, ["unexpected character '}'"]),
    ("$x", "", matdiff.ParseError, ["unexpected end of input"]),
    ("x", "x; scalar", matdiff.DeclarationError, ["'name: shape'"]),
    ("x", "x: banana×", matdiff.DeclarationError, ["cannot read the shape"]),
    ("x", "x): scalar", matdiff.DeclarationError, ["not a valid symbol name"]),
    ("x", "x\\alpha: scalar", matdiff.DeclarationError, ["not a valid symbol name"]),
    ("x", "x: vector 0", matdiff.DeclarationError, ["positive"]),
]


@pytest.mark.parametrize("text, let, kind, fragments", CATALOGUE,
                         ids=[f"{i}:{c[0][:20]}" for i, c in enumerate(CATALOGUE)])
def test_hostile_input(text, let, kind, fragments):
    with pytest.raises(kind) as info:
        matdiff.parse(text, shapes=let)
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, message


@pytest.mark.parametrize("text, let, kind, fragments", CATALOGUE[:12],
                         ids=[f"{i}" for i in range(12)])
def test_cli_prints_one_line_and_the_caret(capsys, text, let, kind, fragments):
    assert main(["diff", text, "--wrt", "x", "--let", let]) == 1
    out, err = capsys.readouterr()
    assert out == "" and err.startswith("matdiff: error: ") and "Traceback" not in err


VALUES = {"a": [1.0, 2.0], "X": [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], "b": [1.0, 2.0, 3.0]}


@pytest.mark.parametrize("change, fragment", [
    ({"a": None}, "no value given for a"),
    ({"a": [1.0, np.inf]}, "NaN or infinity"),
    ({"b": [1.0, np.nan, 2.0]}, "NaN or infinity"),
    ({"X": [[1.0, 2.0], [3.0, 4.0]]}, "n = 3 from"),
    ({"X": [1.0, 2.0, 3.0]}, "expected a 2-D array"),
    ({"b": [[[1.0]]]}, "should be vector"),
    ({"a": "__import__('os')"}, "not numeric"),
    ({"c": 1.0}, "c is not a symbol"),
])
def test_wrong_values_in_evaluate(change, fragment):
    values = {**VALUES, **change}
    values = {k: v for k, v in values.items() if v is not None}
    with pytest.raises(matdiff.EvaluationError, match=re.escape(fragment)):
        matdiff.diff("aᵀXb", "X").evaluate(values)


def test_values_must_be_a_mapping():
    with pytest.raises(matdiff.EvaluationError, match="dict"):
        matdiff.diff("aᵀXb", "X").evaluate([1, 2, 3])


def test_bad_variable_and_options():
    for wrt in ("", "x y", "x'", "__class__", 3):
        with pytest.raises(matdiff.MatdiffError):
            matdiff.diff("aᵀx", wrt)
    with pytest.raises(matdiff.MatdiffError, match="layout"):
        matdiff.diff("aᵀx", "x", layout="sideways")
    with pytest.raises(matdiff.MatdiffError, match="convention"):
        matdiff.diff("aᵀx", "x", convention="loose")
    with pytest.raises(matdiff.MatdiffError):
        matdiff.parse(None)


def test_the_input_language_is_never_evaluated_as_python():
    """No eval or exec anywhere in the package."""
    for path in Path(matdiff.__file__).parent.glob("*.py"):
        code = path.read_text(encoding="utf-8")
        assert not re.search(r"(?<![\w.])(eval|exec)\s*\(", code), path.name


def test_output_contains_only_validated_names():
    d = matdiff.diff("alpha_1 W_{12} x", "x", shapes="alpha_1: scalar")
    for text in (d.text(), d.latex(), d.pretty()):
        assert not re.search(r"[;`$\"']", text)
