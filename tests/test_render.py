"""Stage 6: text round-trips through the grammar; Unicode reads back; LaTeX is balanced."""
import pytest
from helpers import same_value

import matdiff
from matdiff.api import parse_like
from matdiff.identities import load
from matdiff.language.render import to_latex, to_pretty, to_text

IDENTITIES = load()


@pytest.mark.parametrize("entry", IDENTITIES, ids=[e.id for e in IDENTITIES])
def test_results_read_back_and_latex_is_balanced(entry):
    """Matrix forms read back to the same value; Kronecker forms are output only."""
    d = entry.derive()
    if d.result is not None:
        for text in (to_text(d.result), to_pretty(d.result)):
            again = parse_like(text, d.symbols)
            assert same_value(d.result, again), text
        assert to_text(d.result).isascii() or "𝟏" in to_text(d.result)
    latex = to_latex(d.main_form())
    assert latex.count("{") == latex.count("}")
    assert latex.count("\\left") == latex.count("\\right")


@pytest.mark.parametrize("text, pretty", [
    ("x/||x||", "x/‖x‖"), ("X^-T", "X⁻ᵀ"), ("(1/2) ||x||^2", "½‖x‖²"),
    ("-(a b^T)", "−abᵀ"), ("x - 2 A s", "x − 2As"), ("alpha x", "αx"),
    ("W_1 x", "W₁x"), ("e*t*a", "et a"), ("t*r*(x + y)", "t r(x + y)"),
    ("exp(x) ./ y", "exp(x) ./ y"), ("-(y .* x)", "−y ⊙ x"), ("1/(x'x)", "1/(xᵀx)"),
])
def test_pretty_forms(text, pretty):
    decl = {"shapes": "e, t, r: scalar"} if "*" in text else {}
    assert to_pretty(matdiff.parse(text, **decl)) == pretty


def test_names_cannot_inject_latex():
    assert matdiff.parse(r"\alpha x") == matdiff.parse("α x")   # LaTeX input is read
    with pytest.raises(matdiff.DeclarationError):
        matdiff.parse("x", shapes={"x}\\evil{": "scalar"})
