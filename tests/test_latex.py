"""LaTeX input: every notation reads into the tree the plain parser builds (checked by
value), the seeds' formulas derive as the notes state, errors point at the fault."""
import tomllib
from pathlib import Path

import pytest
from helpers import same_value

import matdiff
from matdiff.language.latex import looks_like_latex

ROOT = Path(__file__).resolve().parents[1]
SEEDS = tomllib.loads((ROOT / "identities" / "seed_latex.toml").read_text(encoding="utf-8"))

# (LaTeX, the same in plain text): one row per notation of the README's table
NOTATIONS = [
    (r"\mathbf{x}^\top \mathbf{A} \mathbf{x}", "xᵀAx"),
    (r"\boldsymbol{x}^{\top} \bm{A} x", "xᵀAx"),
    (r"x^{\mathsf{T}} A x + x^{\intercal} x + x^T x + x^{T} x", "xᵀAx + xᵀx + xᵀx + xᵀx"),
    (r"a^\top X^{-1} b", "aᵀX⁻¹b"),
    (r"a^\top X^{-\top} b", "aᵀX⁻ᵀb"),
    (r"\frac{1}{2} x^\top x + \tfrac{1}{3}\alpha + \dfrac{x^\top x}{\alpha}", "½xᵀx + ⅓α + xᵀx/α"),
    (r"\hat{y}^\top \bar{x} + \tilde{x}^\top z", "y_hat' x_bar + x_tilde' z"),
    (r"\sin(\alpha) + \cos\alpha + \exp(\beta) + \log(\beta^2) + \ln\beta + \tanh(\beta)",
     "sin(α) + cos(α) + exp(β) + log(β²) + log(β) + tanh(β)"),
    (r"\sigma(W x)", "σ(Wx)"),
    (r"\det X + \log\det X", "det(X) + log det(X)"),
    (r"\operatorname{tr}(X) + \mathrm{tr}(AB) + \text{tr}(X^\top X)", "tr(X) + tr(AB) + tr(XᵀX)"),
    (r"\operatorname{diag}(x) y", "diag(x) y"),
    (r"\alpha \beta \Sigma x + \lambda \theta", "α β Σ x + λ θ"),
    (r"\alpha \cdot x \odot y + x \circ z + x \oslash y", "α * x ⊙ y + x ∘ z + x ./ y"),
    (r"\left( x + y \right)^\top \big( x - y \big) + \Big( x \Big)^\top x", "(x + y)ᵀ(x − y) + xᵀx"),
    (r"\|x\| + \lVert x - y \rVert + \|x\|_2^2 + \|X\|_F + \left\| X \right\|_F^2",
     "‖x‖ + ‖x − y‖ + ‖x‖² + ‖X‖_F + ‖X‖_F²"),
    (r"\mathbf{1}^\top x + \operatorname{tr}(\mathbf{I}) \alpha", "𝟏ᵀx + tr(I) α"),
    (r"\sum_i (\hat{y}_i - y_i)^2", "‖y_hat − y‖²"),
    (r"\frac{1}{2}\sum_{i=1}^{n} w_i x_i^2", "½ sum(w .* x .* x)"),
    (r"\sum (\hat{Y} - Y)^2", "‖Y_hat − Y‖_F²"),
    (r"\sum_k \alpha x_k", "α sum(x)"),
    (r"\sqrt{x^\top x}", "sqrt(xᵀx)"),
    (r"$x^\top A x$", "xᵀAx"),
    (r"{h^{(2)}}^\top W^{(3)} h^{(1)}", "h^{(2)}ᵀ W^{(3)} h^{(1)}"),
    (r"{W^{(3)}}^{\top} x", "W^{(3)}ᵀ x"),
    (r"x_1^\top A_{12} x_{1}", "x_1ᵀ A_12 x₁"),
]


@pytest.mark.parametrize("latex, plain", NOTATIONS, ids=[n[0][:40] for n in NOTATIONS])
def test_notation_reads_as_the_plain_form(latex, plain):
    assert looks_like_latex(latex) and not looks_like_latex(plain)
    assert same_value(latex, plain), f"{latex} ≠ {plain}"


def test_a_wrong_reading_is_caught():
    """The value check above can fail: x^{-\\top} is not x^{\\top}."""
    assert not same_value(r"a^\top X^{-\top} b", "aᵀXᵀb", shapes="X: n×n")


@pytest.mark.parametrize("entry", SEEDS["formula"],
                         ids=[f"seed{e['seed']}-{i}" for i, e in enumerate(SEEDS["formula"])])
def test_seed_formula_derives_as_the_notes_state(entry):
    text = entry.get("latex_within_language", entry["latex"])
    d = matdiff.diff(text, entry["wrt"], shapes=entry.get("shapes"))
    check = d.verify()
    assert check.ok, check.summary()
    if "expected" in entry:
        assert same_value(d.result, matdiff.parse(entry["expected"], shapes={
            n: s.shape for n, s in d.symbols.items()})), d.pretty()


def test_the_seeds_formulas_are_the_notes_own_text():
    seeds = "".join(p.read_text(encoding="utf-8") for p in
                    (ROOT.parents[1] / "shared" / "seeds").glob("*.txt")) \
        if (ROOT.parents[1] / "shared" / "seeds").exists() else None
    if seeds is None:   # a checkout without the notes next to it: nothing to compare
        return
    for entry in SEEDS["formula"]:
        for line in entry["latex"].splitlines():
            assert line in seeds or line in entry.get("added", []), line


@pytest.mark.parametrize("text, column, fragment", [
    (r"\mathbf{x}^\top \partial x", 17, "unknown LaTeX command '\\\\partial'"),
    (r"x^{\top} + ", 10, "unexpected end of input"),
    (r"\frac{1}{x", 10, "unexpected end of input"),
    (r"\hat{x + y}", 1, "marks a name"),
    (r"\|x\|_3", 6, "unknown norm subscript"),
    (r"x^{\circ 3}", 2, "cannot read the superscript"),
    (r"\mathbf{x} ^", 12, "'^' needs"),
    (r"\mathbf{x}_{i,j}", 11, "cannot read the subscript"),
    (r"\sum_i x", 1, "does not use the index i"),
])
def test_errors_point_at_the_fault(text, column, fragment):
    with pytest.raises(matdiff.ParseError) as info:
        matdiff.parse(text)
    assert info.value.column == column, str(info.value)
    assert fragment in str(info.value), str(info.value)


def test_function_commands_come_from_the_shared_table():
    """A function in core.names.FUNCTIONS reads as \\operatorname{…} with no grammar edit."""
    from matdiff.core.names import FUNCTIONS
    for word in ("softmax", "logsumexp", "sum", "diag", "tr"):
        assert word in FUNCTIONS
        matdiff.parse(rf"\operatorname{{{word}}}(x)" if word != "tr" else r"\operatorname{tr}(X)")
