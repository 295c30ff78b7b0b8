"""The identity library as a product: the CLI, the LaTeX handout (compiled for real with
pdflatex, which .ci/run installs when it is missing) and the README table."""
import json
import re
import shutil
import subprocess
from pathlib import Path

from matdiff import identities
from matdiff.cli import main
from matdiff.identities import Identity, check_identity, handout, latex_text, load

ROOT = Path(__file__).resolve().parents[1]
PDFLATEX = shutil.which("pdflatex")


def compile_latex(source: str, folder: Path) -> Path:
    tex = folder / "doc.tex"
    tex.write_text(source, encoding="utf-8")
    run = subprocess.run([PDFLATEX, "-interaction=nonstopmode", "-halt-on-error", tex.name],
                         cwd=folder, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-3000:]
    return folder / "doc.pdf"


def test_pdflatex_is_installed():
    """CI installs it (Debian's texlive-latex-base) rather than skipping these tests."""
    assert PDFLATEX, "pdflatex is missing: .ci/run installs texlive-latex-base"


def test_there_are_more_than_a_hundred_identities():
    entries = load()
    assert len(entries) >= 100 and len({e.id for e in entries}) == len(entries)


def test_handout_compiles_and_holds_every_derived_result(tmp_path):
    entries = load()
    source = handout(entries)
    assert source.index("Conventions") < source.index("\\section{")
    for e in entries:
        assert e.derive().latex() in source, e.id
    pdf = compile_latex(source, tmp_path)
    assert pdf.stat().st_size > 10_000


def test_standalone_result_compiles(tmp_path, capsys):
    assert main(["diff", "(x − As)ᵀW(x − As)", "--wrt", "s", "--let", "W: symmetric",
                 "--latex", "--standalone", "--check"]) == 0
    source = capsys.readouterr().out
    assert source.startswith("\\documentclass") and "-2 A^{\\top} W" in source
    compile_latex(source, tmp_path)


def test_standalone_tensor_and_hessian_compile(tmp_path, capsys):
    main(["diff", "XᵀX", "--wrt", "X", "--latex", "--standalone"])
    compile_latex(capsys.readouterr().out, tmp_path)
    main(["hessian", "tr(XᵀAX)", "--wrt", "X", "--latex", "--standalone"])
    compile_latex(capsys.readouterr().out, tmp_path)


def test_prose_cannot_break_the_document():
    assert latex_text("50% of $x_1 & {y}") == r"50\% of \$x\_1 \& \{y\}"
    assert latex_text("∂L/∂x = Wᵀ g") == r"$\partial $L/$\partial $x = W$^{\top}$ g"
    assert latex_text("\\input{/etc/passwd}") == r"\textbackslash{}input\{/etc/passwd\}"


def test_identities_check_command(capsys):
    assert main(["identities", "--filter", "cookbook-10", "--check"]) == 0
    out = capsys.readouterr()
    assert re.search(r"^\d+/\d+ passed, \d+ exactly", out.out, re.M)
    assert "[1/" in out.err   # progress on stderr


def test_identities_check_fails_loudly(monkeypatch, capsys):
    wrong = Identity("planted-wrong", "Test", "none", "aᵀXb", "X", "baᵀ")
    assert not check_identity(wrong).passed
    monkeypatch.setattr(identities, "load", lambda name=None: [wrong])
    assert main(["identities", "--check"]) == 1
    assert "FAIL" in capsys.readouterr().out


def test_identities_json_and_listing(capsys):
    main(["identities", "--filter", "mml", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert {d["id"] for d in data} >= {"mml-5.104", "mml-5.108", "mml-example-5.12"}
    main(["identities", "--filter", "Hessians"])
    assert "hessian-logistic" in capsys.readouterr().out


def test_readme_table_is_generated_from_the_data(capsys):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = re.search(r"<!-- identities:start -->\n(.*?)\n<!-- identities:end -->",
                      readme, re.S).group(1)
    main(["identities", "--markdown"])
    assert table == capsys.readouterr().out.rstrip("\n"), \
        "regenerate with: matdiff identities --markdown"
