"""Display for notes and notebooks: _repr_latex_ with the function, Hessians as ∇²f,
Expr typeset, where clauses as aligned lines, --bold, index notation in the user's
letters — the LaTeX compiled, the index forms checked by value."""
import re
import shutil
import subprocess

import numpy as np

import matdiff
from matdiff.cli import main
from tests.helpers import values_for


def _compile(tmp_path, body: str):
    doc = ("\\documentclass{article}\\usepackage{amsmath,amssymb}\\begin{document}"
           f"{body}\\end{{document}}")
    (tmp_path / "d.tex").write_text(doc, encoding="utf-8")
    run = subprocess.run([shutil.which("pdflatex"), "-interaction=nonstopmode",
                          "-halt-on-error", "d.tex"], cwd=tmp_path, capture_output=True,
                         text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-2000:]


def test_repr_latex_names_the_function():
    d = matdiff.diff("tr(AXB)", "X")
    assert d._repr_latex_().startswith("$\\frac{\\partial \\left(\\operatorname{tr}")
    h = matdiff.hessian("xᵀAx", "x")
    assert h._repr_latex_().startswith("$\\nabla^2_{x} \\left(x^{\\top} A x\\right) = ")
    mixed = matdiff.hessian("xᵀAy", "x", "y")
    assert "\\partial x \\, \\partial y^{\\top}" in mixed._repr_latex_()
    assert matdiff.parse("xᵀAx")._repr_latex_() == "$x^{\\top} A x$"


def test_notebook_latex_compiles(tmp_path):
    shown = [matdiff.diff("tr(AXB)", "X"), matdiff.diff("XᵀX", "X"),
             matdiff.hessian("xᵀAx", "x"), matdiff.hessian("tr(XᵀAX)", "X"),
             matdiff.hessian("xᵀAy", "x", "y"), matdiff.parse("xᵀAx"),
             matdiff.diff("x1²x2", ["x1", "x2"], shapes="x1, x2: scalar"),
             matdiff.taylor("xᵀAx", "x")]
    _compile(tmp_path, "\n".join(f"\\[{s._repr_latex_()[1:-1]}\\]" for s in shown))


def tanh_chain(n):
    return "sum(" + "tanh(" * n + "x" + ")" * n + ")"


def test_where_clauses_are_aligned_lines(tmp_path):
    latex = matdiff.diff(tanh_chain(4), "x").latex(shared=True)
    assert "\\begin{aligned}[t]" in latex and latex.count("&=") == latex.count("\\\\") + 1
    _compile(tmp_path, f"\\begin{{equation*}}{latex}\\end{{equation*}}")


def test_bold_vectors_and_matrices(tmp_path, capsys):
    d = matdiff.diff("(x − As)ᵀW(x − As)", "s", symmetric=["W"])
    bold = d.latex(bold=True)
    assert "\\boldsymbol{A}^{\\top} \\boldsymbol{W}" in bold
    assert bold.replace("\\boldsymbol{", "").replace("}", "") == d.latex().replace("}", "")
    scaled = matdiff.diff("c xᵀx", "x", shapes="c: scalar").latex(bold=True)
    assert "\\boldsymbol{x}" in scaled and "\\boldsymbol{c}" not in scaled   # scalars plain
    assert main(["diff", "tr(AXB)", "--wrt", "X", "--latex", "--steps", "--bold",
                 "--standalone"]) == 0
    doc = capsys.readouterr().out
    assert "\\mathrm{d}\\boldsymbol{X}" in doc
    (tmp_path / "b.tex").write_text(doc, encoding="utf-8")
    run = subprocess.run([shutil.which("pdflatex"), "-interaction=nonstopmode",
                          "-halt-on-error", "b.tex"], cwd=tmp_path, capture_output=True,
                         text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-2000:]


def test_index_notation_is_index_notation():
    d = matdiff.diff("tr(AXB)", "X")
    text = d.index()
    assert text == "∂(tr(AXB))/∂Xᵢⱼ = (BA)ⱼᵢ"
    # the claimed entries, by value: G_ij = (BA)_ji
    vals = values_for(d.expr)
    BA = vals["B"] @ vals["A"]
    assert np.allclose(d.evaluate(vals), BA.T)
    assert d.index(letters="pq") == "∂(tr(AXB))/∂X_{pq} = (BA)_{qp}"
    assert matdiff.diff("Wx", "W").index(letters="abc") == "∂(Wx)ₐ/∂W_{bc} = δ_{ab} x_c"


def test_index_letters_on_the_cli(capsys):
    assert main(["diff", "log det X", "--wrt", "X", "--index-letters", "ab"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"index notation: ∂\(log\(det\(X\)\)\)/∂X_\{ab\} = \(X⁻¹\)_\{ba\}", out)
