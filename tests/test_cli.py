"""The command line: main(argv) in-process, plus one real subprocess run."""
import json
import subprocess
import sys

import pytest

from matdiff.cli import main


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_done_when_example(capsys):
    code, out, err = run(capsys, "diff", "(x − As)ᵀW(x − As)", "--wrt", "s",
                         "--let", "W: symmetric", "--check")
    lines = out.splitlines()
    assert code == 0 and lines[0] == "−2AᵀW(x − As)"
    assert lines[1] == "denominator layout: ∂f/∂s has the shape of s"
    assert lines[2].startswith("check passed") and "sympy" in lines[2]


@pytest.mark.parametrize("flag, expected", [
    ("--text", "a b^T"), ("--latex", r"a b^{\top}"), (None, "abᵀ")])
def test_output_formats(capsys, flag, expected):
    argv = ["diff", "aᵀXb", "--wrt", "X"] + ([flag] if flag else [])
    code, out, _ = run(capsys, *argv)
    lines = out.splitlines()
    assert code == 0 and lines[0] == expected
    assert "denominator layout" in lines[1]


def test_json(capsys):
    code, out, _ = run(capsys, "diff", "aᵀXb", "--wrt", "X", "--json", "--check")
    data = json.loads(out)
    assert code == 0
    assert data["input"] == "aᵀXb" and data["variable"] == "X"
    assert data["result"] == "a b^T" and data["latex"] == r"a b^{\top}"
    assert data["shape"] == ["m", "n"] and data["check"]["passed"] is True


@pytest.mark.parametrize("argv, fragment", [
    (["diff", "aᵀX +", "--wrt", "X"], "unexpected end of input"),
    (["diff", "xW", "--wrt", "x"], "cannot multiply"),
    (["diff", "sigmod(x)", "--wrt", "x"], "did you mean 'sigmoid'"),
    (["diff", "aᵀx", "--wrt", "x + 1"], "must be a symbol name"),
    (["hessian", "Ax", "--wrt", "x"], "needs a scalar-valued expression"),
    (["diff", "aᵀx", "--wrt", "x", "--let", "x banana"], "name: shape"),
])
def test_errors_are_one_line_plus_caret_and_exit_nonzero(capsys, argv, fragment):
    code, out, err = run(capsys, *argv)
    assert code == 1 and out == ""
    first = err.splitlines()[0]
    assert first.startswith("matdiff: error: ") and fragment in first
    assert "Traceback" not in err


def test_caret_under_the_fault(capsys):
    _, _, err = run(capsys, "diff", "aᵀX + ", "--wrt", "X")
    lines = err.splitlines()
    assert lines[1].strip() == "aᵀX +" and lines[2].strip() == "^"


def test_help_shows_examples(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    assert "examples:" in capsys.readouterr().out


def test_shapes_command(capsys):
    code, out, _ = run(capsys, "shapes", "x'Ax")
    assert code == 0 and "A: m×m" in out and "x: vector m" in out


def test_module_entry_point_runs_without_traceback():
    result = subprocess.run([sys.executable, "-m", "matdiff", "diff", "a'X b", "--wrt", "X"],
                            capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.splitlines()[0] == "abᵀ"
    result = subprocess.run([sys.executable, "-m", "matdiff", "diff", "a'(X", "--wrt", "X"],
                            capture_output=True, text=True)
    assert result.returncode == 1 and "Traceback" not in result.stderr
