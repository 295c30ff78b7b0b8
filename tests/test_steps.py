"""Step-by-step derivations: every step is an equality checked numerically against dF,
the rules are the engine's own (named, with their source), and the LaTeX compiles."""
import dataclasses
import shutil
import subprocess

import pytest

import matdiff
from matdiff.check.steps import check_steps
from matdiff.cli import main

CASES = [
    ("tr(AXB)", "X", {}),
    ("aᵀXb", "X", {}),
    ("logdet(X)", "X", {}),
    ("log det X", "X", {}),
    ("det(X)", "X", {}),
    ("tr(X⁻¹A)", "X", {}),
    ("xᵀAx", "x", {}),
    ("xᵀAx", "x", {"layout": "numerator"}),
    ("½‖σ(Wx) − y‖²", "W", {}),
    ("‖Ax − b‖²", "x", {}),
    ("sum(log(1 + exp(Ax)))", "x", {}),
    ("logsumexp(Wx)", "W", {}),
    ("tr(XᵀAX)", "X", {}),
    ("x1^2 x2 + x1 x2^3", "x1", {"shapes": "x1, x2: scalar"}),
    ("σ(Wx)", "x", {}),                                   # Jacobian, numerator
    ("σ(Wx)", "x", {"layout": "denominator"}),            # Jacobian, denominator
    ("softmax(Wx)", "x", {}),
    ("XᵀX", "X", {}),                                     # rank 4: vec/Kronecker form
    ("t² A", "t", {"shapes": "t: scalar"}),               # by a scalar
    ("log det X", "X", {"symmetric": ["X"], "convention": "symmetric"}),
    ("(x − As)ᵀW(x − As)", "s", {"symmetric": ["W"]}),
]


@pytest.mark.parametrize("expr, wrt, options", CASES)
def test_every_step_equals_the_differential_numerically(expr, wrt, options):
    d = matdiff.diff(expr, wrt, **options)
    steps = d.steps()
    assert len(steps) >= 2
    for seed in (0, 1):
        results = check_steps(steps, seed=seed)
        assert [r.ok for r in results] == [True] * len(steps), \
            [(r.rule, r.expected, r.got) for r in results if not r.ok]
    assert d.verify().ok   # the result the steps end in is the verified derivative


@pytest.mark.parametrize("expr, wrt", [("sum(log(1 + exp(Ax)))", "x"), ("xᵀAx", "x"),
                                       ("tr(XᵀAX)", "X")])
def test_hessian_steps_are_the_gradient_then_its_derivative(expr, wrt):
    h = matdiff.hessian(expr, wrt)
    steps = h.steps()
    assert steps[0].of == h.f and steps[-1].of == h.expr
    assert all(r.ok for r in check_steps(steps))
    assert h.verify().ok


def test_the_last_step_is_the_printed_result():
    d = matdiff.diff("tr(AXB)", "X")
    assert d.steps()[-1].expr == d.result
    s = matdiff.diff("log det X", "X", symmetric=["X"], convention="symmetric").steps()
    assert s[-1].kind == "symmetric" and s[-2].kind == "gradient"


def test_a_wrong_step_fails_the_check():
    d = matdiff.diff("tr(AXB)", "X")
    steps = d.steps()
    wrong = matdiff.parse("BA", shapes={"A": ("m", "n"), "B": ("p", "m")})
    bad = dataclasses.replace(steps[-1], expr=wrong)
    assert [r.ok for r in check_steps(steps[:-1] + [bad])][-1] is False
    # a differential step with a sign error
    neg = matdiff.parse("-tr(BAX)", shapes={"A": ("m", "n"), "B": ("p", "m"),
                                             "X": ("n", "p")})
    bad = dataclasses.replace(steps[1], expr=matdiff.calculus.simplify.trace(neg))
    assert check_steps([bad])[0].ok is False


def test_the_rules_are_named_with_their_source():
    rules = [s.rule for s in matdiff.diff("logdet(X)", "X").steps()]
    assert any("Matrix Cookbook 57" in r for r in rules)
    rules = [s.rule for s in matdiff.diff("tr(AXB)", "X").steps()]
    assert rules[0].startswith("linear: d tr(X)")
    assert rules[1].startswith("product rule")
    assert rules[2].startswith("cyclic trace")
    assert rules[3].startswith("read off tr(Gᵀ dX)")


def test_steps_text_and_latex():
    d = matdiff.diff("tr(AXB)", "X")
    text = d.steps_text()
    assert text.splitlines()[0].startswith("d(tr(AXB)) = tr(d(AXB))")
    assert "tr(BA dX)" in text and "AᵀBᵀ" in text
    latex = d.steps_text(latex=True)
    assert latex.startswith("\\begin{align*}") and latex.endswith("\\end{align*}")
    assert latex.count("\\\\\n") == len(d.steps()) - 1


def test_cli_steps(capsys):
    assert main(["diff", "xᵀAx", "--wrt", "x", "--steps"]) == 0
    out = capsys.readouterr().out
    assert "product rule" in out and "∂(xᵀAx)/∂x = (A + Aᵀ)x" in out
    assert main(["hessian", "xᵀAx", "--wrt", "x", "--steps", "--latex"]) == 0
    out = capsys.readouterr().out
    assert out.count("\\begin{align*}") == 1


def test_standalone_steps_compile_with_pdflatex(tmp_path, capsys):
    body = []
    for expr, wrt, options in CASES:
        args = ["diff", expr, "--wrt", wrt, "--steps", "--latex", "--standalone"]
        for k, v in options.items():
            if k == "shapes":
                args += ["--let", v]
            elif k == "symmetric":
                args += ["--let", "; ".join(f"{n}: symmetric" for n in v)]
            else:
                args += [f"--{k}", v]
        assert main(args) == 0
        body.append(capsys.readouterr().out)
    assert main(["hessian", "sum(log(1 + exp(Ax)))", "--wrt", "x", "--steps", "--latex",
                 "--standalone"]) == 0
    body.append(capsys.readouterr().out)
    for i, doc in enumerate(body):
        assert doc.startswith("\\documentclass") and "\\begin{align*}" in doc
        (tmp_path / f"s{i}.tex").write_text(doc, encoding="utf-8")
        run = subprocess.run([shutil.which("pdflatex"), "-interaction=nonstopmode",
                              "-halt-on-error", f"s{i}.tex"], cwd=tmp_path,
                             capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, (doc, run.stdout[-2000:])


def test_every_identity_of_the_library_has_checked_steps():
    from matdiff.identities import load
    failed = []
    for entry in load():
        steps = entry.derive().steps()
        if not steps or not all(r.ok for r in check_steps(steps)):
            failed.append(entry.id)
    assert failed == []


@pytest.mark.parametrize("expr, wrt", [("x", "x"), ("y", "x"), ("aᵀb", "x")])
def test_trivial_derivations(expr, wrt):
    steps = matdiff.diff(expr, wrt).steps()
    assert all(r.ok for r in check_steps(steps))


def test_json_steps(capsys):
    import json
    assert main(["diff", "tr(AXB)", "--wrt", "X", "--steps", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [s["rule"].split(":")[0] for s in out["steps"]] == \
        ["linear", "product rule", "cyclic trace", "read off tr(Gᵀ dX)"]
    assert out["steps"][-1]["unicode"] == out["unicode"]
