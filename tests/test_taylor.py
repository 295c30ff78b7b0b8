"""Taylor polynomials (MML 5.148): the remainder shrinks as ‖x − x₀‖^(order+1), the
printed text reads back to the same value, and the CLI prints it."""
import numpy as np
import pytest

import matdiff
from matdiff.check.evaluate import evaluate
from matdiff.cli import main


def _values(t, seed=0):
    rng = np.random.default_rng(seed)
    out = {}
    for name, sym in t.symbols.items():
        shape = tuple(3 if isinstance(d, str) else d for d in sym.shape)
        v = rng.uniform(-0.5, 0.5, size=shape)
        if sym.shape != () and sym.shape[0] == sym.shape[1]:
            v = v @ v.T + 3 * np.eye(shape[0])   # positive definite for log det
        out[name] = v.reshape(-1) if sym.shape[1:] == (1,) else v
    return out


def _f(t, values):
    own = matdiff.core.nodes.symbols_of(t.f)
    return float(evaluate(t.f, {k: v for k, v in values.items() if k in own}))


def _ratio(t, seed=0, steps=(0.02, 0.01)):
    """remainder(h)/remainder(h/2) along a random direction: 2^(order+1) for a polynomial
    of the right order."""
    values = _values(t, seed)
    x, x0 = t.wrt.name, t.at.name
    values[x0] = values[x]
    direction = np.random.default_rng(seed + 7).normal(size=np.shape(values[x]))
    if t.wrt.symmetric:
        direction = (direction + direction.T) / 2
    direction = direction / np.linalg.norm(direction)   # a unit step
    errors = []
    for h in steps:
        point = {**values, x: values[x0] + h * direction}
        errors.append(abs(_f(t, point) - t.evaluate(point)))
    return errors[0] / errors[1]


@pytest.mark.parametrize("expr, wrt, shapes", [
    ("sum(log(1 + exp(Ax)))", "x", None),
    ("exp(aᵀx) + ‖x‖² sin(bᵀx)", "x", None),
    ("exp(x) sin(x)", "x", "x: scalar"),
    ("log det X", "X", None),
])
@pytest.mark.parametrize("order", [1, 2])
def test_the_remainder_shrinks_as_the_next_power(expr, wrt, shapes, order):
    t = matdiff.taylor(expr, wrt, order=order, shapes=shapes)
    ratio = _ratio(t)
    assert abs(ratio - 2 ** (order + 1)) < 0.6, ratio


def test_higher_orders_for_a_scalar_variable():
    t = matdiff.taylor("exp(x) sin(x)", "x", order=4, shapes="x: scalar")
    assert abs(_ratio(t, steps=(0.2, 0.1)) - 32) < 3


def test_at_the_point_itself_it_is_f():
    t = matdiff.taylor("sum(log(1 + exp(Ax)))", "x")
    values = _values(t)
    values["x_0"] = values["x"]
    assert np.isclose(t.evaluate(values), _f(t, values))


def test_mml_5_148_form_and_read_back():
    t = matdiff.taylor("sum(log(1 + exp(Ax)))", "x", at="x0")
    assert t.pretty().startswith("sum(log(1 + exp(Ax₀))) + σ(Ax₀)ᵀA(x − x₀) + ½(x − x₀)ᵀ")
    back = matdiff.parse(t.text(), shapes={n: s.shape for n, s in t.symbols.items()})
    values = _values(t, seed=3)
    assert np.isclose(float(evaluate(back, values)), t.evaluate(values))
    assert t.latex().count("x_{0}") >= 3 and "\\approx" in t.equation()


def test_errors():
    with pytest.raises(matdiff.DeclarationError):
        matdiff.taylor("xᵀAx", "x", at="A")
    with pytest.raises(matdiff.NoRuleError):
        matdiff.taylor("Ax", "x")
    with pytest.raises(matdiff.NoRuleError):
        matdiff.taylor("xᵀAx", "x", order=3)
    with pytest.raises(matdiff.MatdiffError):
        matdiff.taylor("xᵀAx", "x", order=-1)


def test_cli_taylor(capsys):
    assert main(["taylor", "exp(x) sin(x)", "--wrt", "x", "--let", "x: scalar",
                 "--order", "2"]) == 0
    assert capsys.readouterr().out.startswith("exp(x₀)sin(x₀) + ")
    assert main(["taylor", "xᵀAx", "--wrt", "x", "--latex"]) == 0
    assert "\\approx" in capsys.readouterr().out
    assert main(["taylor", "Ax", "--wrt", "x"]) == 1
