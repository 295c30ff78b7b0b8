"""Every node type has a rule in every stage (R12 of STYLE.md)."""
import pytest

from matdiff.calculus.diff import _d, _pullback
from matdiff.calculus.simplify import REBUILD
from matdiff.check.evaluate import RULES as EVALUATE
from matdiff.check.verifier import to_sympy
from matdiff.core.nodes import NODES, Differential
from matdiff.core.shapes import shape_of
from matdiff.language.render import TEXT, Printer

LEAVES = {"Symbol", "Const", "Identity", "Zero", "Ones", "DimSize", "Commutation"}


@pytest.mark.parametrize("registry", [shape_of, _d, to_sympy], ids=["shape", "diff", "sympy"])
def test_singledispatch_registries_cover_every_node(registry):
    default = registry.dispatch(object)
    missing = [n.__name__ for n in NODES if registry.dispatch(n) is default
               and not (registry is to_sympy and n is Differential)]
    assert missing == []


def test_table_registries_cover_every_node():
    assert [n.__name__ for n in NODES if n not in EVALUATE] == []
    assert [n.__name__ for n in NODES if n not in REBUILD and n.__name__ not in LEAVES] == []
    assert [n.__name__ for n in NODES if not hasattr(Printer(TEXT), "_" + n.__name__)] == []


def test_linear_nodes_have_a_pullback():
    linear = ["Differential", "Add", "Mul", "Hadamard", "ElemDiv", "Transpose", "Trace",
              "Sum", "DiagMat", "DiagVec"]
    default = _pullback.dispatch(object)
    assert [n for n in NODES if n.__name__ in linear and _pullback.dispatch(n) is default] == []
