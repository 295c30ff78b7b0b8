"""Backprop through a program of definitions and layer rules (VJPs): every gradient's value
is checked against central differences of the program and against matdiff.diff; every
printed line reads back; the LaTeX compiles."""
import json
import shutil
import subprocess

import numpy as np
import pytest

import matdiff
from matdiff.cli import main

NET = "h = σ(W₁x + b₁); ŷ = W₂h + b₂; L = ½‖ŷ − y‖²"
SEED_000 = ("H_1 = W_1^T X\nH_2 = W_2^T H_1\n\\hat{Y} = W_3^T H_2\n"
            "L(\\theta) = \\sum (\\hat{Y} - Y)^2")
SEED_002 = (r"h^{(1)} = \sigma(W^{(1)} x) \\ h^{(2)} = \sigma(W^{(2)} h^{(1)}) \\ "
            r"\hat{y} = \sigma(W^{(3)} h^{(2)}) \\ L = \frac{1}{2}\|\hat{y} - y\|^2")


def values_checked(g, seed):
    """Each printed gradient (read back) against central differences and diff, by hand."""
    values = g.random_values(seed)
    ours = g.evaluate(values)
    for p in g.parameters:
        by_diff = matdiff.diff(g.program.source, p.name, of=g.output)
        expected = by_diff.evaluate({k: v for k, v in values.items() if k in by_diff.symbols})
        assert np.allclose(ours[p.name], expected, rtol=1e-9, atol=1e-11), p.name
        assert np.allclose(ours[p.name], g._central(values, p.name), rtol=1e-5, atol=1e-6)
    return ours


@pytest.mark.parametrize("seed", [0, 1])
def test_the_notes_network_in_reverse_mode_shape(seed):
    g = matdiff.gradients(NET)
    assert g.pretty().splitlines() == [
        "δ_{yhat} = ŷ − y", "∂L/∂W₂ = δ_{yhat}hᵀ", "∂L/∂b₂ = δ_{yhat}",
        "δ_h = W₂ᵀδ_{yhat} ⊙ h ⊙ (1 − h)", "∂L/∂W₁ = δ_hxᵀ", "∂L/∂b₁ = δ_h"]
    assert [p.name for p in g.parameters] == ["W_1", "b_1", "W_2", "b_2"]
    assert {d.name for d in g.data} == {"x", "y"}
    values_checked(g, seed)
    assert len(g.verify(seed=seed)) == 4


def test_seed_000_three_layer_net():
    g = matdiff.gradients(SEED_000)
    assert [ln.kind for ln in g.lines] == ["delta", "gradient"] * 3
    assert g.pretty().splitlines()[1] == "∂L/∂W₃ = H₂δ_{Yhat}ᵀ"
    assert g.pretty().splitlines()[5] == "∂L/∂W₁ = Xδ^{(H1)}ᵀ"
    values_checked(g, 0)
    assert g.verify(seed=2)


def test_seed_002_sigmoid_net_with_layer_labels():
    g = matdiff.gradients(SEED_002)
    assert [p.name for p in g.parameters] == ["W^(1)", "W^(2)", "W^(3)"]
    assert "⊙ h^{(2)} ⊙ (1 − h^{(2)})" in g.pretty()
    values_checked(g, 0)


def test_parameters_by_name_and_data_by_name():
    g = matdiff.gradients(NET, wrt="W1,b2")
    assert [p.name for p in g.parameters] == ["W_1", "b_2"]
    values_checked(g, 0)
    g = matdiff.gradients("z = Ax; L = ½‖z − y‖²", data=["y"])
    assert [p.name for p in g.parameters] == ["A", "x"]
    values_checked(g, 0)
    with pytest.raises(matdiff.DeclarationError, match="not a free symbol"):
        matdiff.gradients(NET, wrt="Q")


def test_a_shared_weight_collects_every_use():
    g = matdiff.gradients("h = tanh(Wx); z = Wh; L = sum(z)", wrt="W")
    values_checked(g, 0)


def test_of_names_the_output_and_a_vector_output_is_refused():
    g = matdiff.gradients(NET + "; R = L + ‖W₁‖_F²", of="L")
    assert [p.name for p in g.parameters] == ["W_1", "b_1", "W_2", "b_2"]
    values_checked(g, 0)
    with pytest.raises(matdiff.NoRuleError, match="scalar output"):
        matdiff.gradients("h = Wx")


def test_every_printed_line_reads_back():
    g = matdiff.gradients(SEED_000)
    assert len(g.read_back()) == len(g.lines)


def test_a_wrong_line_is_caught():
    g = matdiff.gradients(NET)
    wrong = g.lines[1]
    g.lines[1] = type(wrong)(wrong.kind, wrong.target, wrong.of, _doubled(wrong.expr))
    with pytest.raises(matdiff.VerificationError, match="W_2"):
        g.verify()


def _doubled(e):
    from matdiff.calculus.simplify import mul
    from matdiff.core.nodes import Const
    return mul(Const(2), e)


# ----- layer rules -------------------------------------------------------------------------

def test_linear_layer_with_a_bias_added_to_every_column():
    v = matdiff.vjp("Y = WX + b", upstream="G")
    assert v.gradients.keys() == {"W", "X", "b"}
    pretty = dict(line.split(" = ") for line in v.pretty().splitlines())
    assert pretty["∂L/∂W"] == "GXᵀ" and pretty["∂L/∂X"] == "WᵀG"
    assert pretty["∂L/∂b"].replace(" ", "") == "G𝟏"
    assert any("every column" in n for n in v.notes)
    assert v.verify()


@pytest.mark.parametrize("definition, decl", [
    ("h = σ(Wx + b)", ""),
    ("Y = relu(WX)", ""),
    ("Y = softmax_rows(QKᵀ/sqrt(d))V", "d: scalar"),
    ("y = (x − 𝟏(𝟏ᵀx)/n) / sqrt(‖x − 𝟏(𝟏ᵀx)/n‖²/n + ε)", "n: scalar; ε: scalar"),
    ("c = x − 𝟏𝟏ᵀx/n; y = c/sqrt(‖c‖²/n + ε)", "n, ε: scalar"),   # layer norm, chained
])
def test_layer_rules_verify(definition, decl):
    v = matdiff.vjp(definition, "G", shapes=decl)
    assert v.verify()


def test_a_bias_reads_as_a_column_broadcast_only_in_programs():
    with pytest.raises(matdiff.ShapeError):
        matdiff.parse("WX + b")
    p = matdiff.parse_program("Y = WX + b; L = sum(Y)")
    assert matdiff.to_pretty(p.definitions["Y"]).replace(" ", "") == "WX+b𝟏ᵀ"
    d = matdiff.diff("Y = WX + b; L = sum(Y)", "b")
    assert d.verify().ok


# ----- the command line ------------------------------------------------------------------

def test_cli_backprop_prints_checks_and_notes(capsys):
    assert main(["backprop", NET]) == 0
    out, err = capsys.readouterr()
    assert out.splitlines()[0] == "δ_{yhat} = ŷ − y"
    assert "check: every gradient matches central differences" in out
    assert "note: parameters: W₁, b₁, W₂, b₂" in err


def test_cli_backprop_json_and_upstream(capsys):
    assert main(["backprop", "Y = WX + b", "--upstream", "G", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["upstream"] == "G" and out["check"]["passed"]
    assert [g["result"] for g in out["gradients"]][:2] == ["G X^T", "W^T G"]


def test_cli_backprop_bad_name_is_one_line(capsys):
    assert main(["backprop", NET, "--wrt", "Q"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("matdiff: error: Q is not a free symbol") and "Traceback" not in err


def test_cli_backprop_file(tmp_path, capsys):
    f = tmp_path / "net.txt"
    f.write_text(SEED_000, encoding="utf-8")
    assert main(["backprop", "-f", str(f), "--text"]) == 0
    assert "dL/dW_3 = H_2 delta_{Yhat}^T" in capsys.readouterr().out


def test_latex_align_block_compiles(tmp_path, capsys):
    pdflatex = shutil.which("pdflatex")
    assert pdflatex, "pdflatex is needed to check the LaTeX"
    assert main(["backprop", SEED_002, "--latex", "--standalone"]) == 0
    doc = capsys.readouterr().out
    assert "\\begin{align*}" in doc and "\\delta_{\\hat{y}} &=" in doc
    (tmp_path / "bp.tex").write_text(doc, encoding="utf-8")
    run = subprocess.run([pdflatex, "-interaction=nonstopmode", "-halt-on-error", "bp.tex"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout[-2000:]


def test_the_library_holds_the_standard_layers():
    from matdiff.identities import load
    ids = {e.id for e in load() if e.section == "Layer rules (VJP)"}
    for kind in ("relu", "softmax", "cross-entropy", "squared-error", "logistic",
                 "normalisation-centre", "normalisation-scale", "attention-query",
                 "attention-key", "attention-value"):
        assert any(kind in i for i in ids), kind


def test_softmax_cross_entropy_net_takes_the_delta_at_the_logits():
    g = matdiff.gradients("h = relu(W₁x); p = softmax(W₂h); L = −yᵀlog(p)")
    delta = g.lines[0]
    assert delta.kind == "delta" and matdiff.to_pretty(delta.at) == "W₂h"
    assert g.pretty().splitlines()[:2] == ["δ_p = (𝟏ᵀy)p − y", "∂L/∂W₂ = δ_phᵀ"]
    values_checked(g, 0)
    g = matdiff.gradients("h = relu(W₁x); p = softmax(W₂h); L = −yᵀlog(p)",
                          shapes="y: probability")   # 𝟏ᵀy = 1: the textbook δ
    assert g.pretty().splitlines()[0] == "δ_p = p − y"
    values_checked(g, 2)
    g = matdiff.gradients("H = tanh(W₁X); P = softmax_rows(W₂H); L = −tr(Yᵀlog(P))")
    values_checked(g, 1)


@pytest.mark.parametrize("act", ["σ", "tanh", "relu", "softplus", "exp", "sin"])
@pytest.mark.parametrize("loss", ["½‖ŷ − y‖²", "−yᵀlog(softmax(ŷ))", "sum(softplus(ŷ)) − yᵀŷ"])
def test_two_layer_nets_of_every_activation_and_loss(act, loss):
    g = matdiff.gradients(f"h = {act}(W₁x + b₁); ŷ = W₂h + b₂; L = {loss}")
    assert [ln.kind for ln in g.lines].count("delta") == 2
    assert len(g.verify(seed=3)) == 4
