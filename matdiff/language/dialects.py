"""Other tools' syntax: what users paste from matrixcalculus.org and from SymPy.

A dialect is chosen explicitly (``syntax=`` in the API, ``--syntax`` on the command line),
because the meanings clash: in matdiff's own syntax ``AB`` is A·B (lecture notes), while
matrixcalculus.org and SymPy write every product with ``*`` and read ``AB`` as one name.

* ``"matdiff"`` — the notes' syntax (the default).
* ``"matrixcalculus"`` — matrixcalculus.org: every identifier is one name (``xy``,
  ``beta2``), a…g are scalars (h…z vectors, A…Z matrices, its documented defaults),
  ``*`` for products, ``'`` transpose, ``.*`` ``./`` entrywise, ``.^`` entrywise power,
  ``norm1``, ``norm2``, ``vector(1)``, ``matrix(1)``, ``eye``, ``inv``, ``det``, ``tr``.
* ``"sympy"`` — SymPy's printed matrix expressions: identifiers are names, ``X.T``,
  ``X**k`` (``X**(-1)`` the inverse), ``Trace(X)``, ``Determinant(X)``, ``Inverse(X)``,
  ``Transpose(X)``, ``HadamardProduct(A, B)``, ``MatPow(X, k)``, ``Identity(n)``.

The grammar is the same for all three; a dialect only adds its function names to the
CALLFUNC token and reads identifiers whole.
"""
from __future__ import annotations

import re

from ..core.errors import MatdiffError, ParseError
from ..core.names import CONSTANT_WORDS, FUNCTIONS, GREEK, SPECIAL_FUNCTIONS
from fractions import Fraction

from ..core.nodes import (
    MINUS_ONE,
    Const,
    Det,
    Div,
    Expr,
    Hadamard,
    Identity,
    Inverse,
    Mul,
    Power,
    Trace,
    Transpose,
)

SYNTAXES = ("matdiff", "matrixcalculus", "sympy")


def const_value(e: Expr) -> Fraction | None:
    """The number a constant exponent stands for (2, -1, (1/2)), else None."""
    if isinstance(e, Const):
        return e.value
    if type(e) is Mul and len(e.factors) == 2 and e.factors[0] == MINUS_ONE:
        inner = const_value(e.factors[1])
        return None if inner is None else -inner
    if isinstance(e, Div):
        a, b = const_value(e.num), const_value(e.den)
        return a / b if a is not None and b else None
    return None



def _one(name, node):
    def build(args, source, span):
        if len(args) != 1:
            raise ParseError(f"{name} takes one argument, got {len(args)}", source, span)
        return node(args[0], span=span)
    return build


def _hadamard(args, source, span):
    if len(args) < 2:
        raise ParseError("HadamardProduct takes two or more arguments", source, span)
    return Hadamard(tuple(args), span=span)


def _matpow(args, source, span):
    k = const_value(args[1]) if len(args) == 2 else None
    if k is None or k.denominator != 1:
        raise ParseError("MatPow(X, k) takes a matrix and an integer", source, span)
    return Inverse(args[0], span=span) if k == -1 else Power(args[0], k, span=span)


def _identity(args, source, span):
    k = const_value(args[0]) if len(args) == 1 else None
    return Identity(int(k) if k is not None and k.denominator == 1 else None, span=span)


DIALECT_FUNCTIONS = {
    "matdiff": {},
    "matrixcalculus": {},
    "sympy": {"Trace": _one("Trace", Trace), "Determinant": _one("Determinant", Det),
              "Inverse": _one("Inverse", Inverse), "Transpose": _one("Transpose", Transpose),
              "HadamardProduct": _hadamard, "MatPow": _matpow, "Identity": _identity},
}

_WORD = re.compile(r"(?<![A-Za-z0-9_])([A-Za-z][A-Za-z0-9_]*)")


def check_syntax(syntax: str) -> None:
    if syntax not in SYNTAXES:
        raise MatdiffError(f"unknown syntax {syntax!r}: use one of {', '.join(SYNTAXES)}")


def dialect_names(text: str, syntax: str) -> frozenset[str]:
    """In matrixcalculus and SymPy syntax every identifier is one name (read whole)."""
    if syntax == "matdiff":
        return frozenset()
    words = set(_WORD.findall(text)) - set(FUNCTIONS) - set(SPECIAL_FUNCTIONS) - \
        set(GREEK) - set(CONSTANT_WORDS) - set(DIALECT_FUNCTIONS[syntax]) - {"T"}
    return frozenset(w for w in words if len(w) > 1)


def dialect_declarations(names, decls: dict, syntax: str) -> dict:
    """matrixcalculus.org's default shapes: a, b, …, g are scalars (h, …, z vectors and
    A, …, Z matrices, as in matdiff).  Declarations given by the user win."""
    if syntax != "matrixcalculus":
        return decls
    from ..core.shapes import Decl
    scalars = {n: Decl(()) for n in names if n[:1] in "abcdefg" and n not in decls}
    return {**decls, **scalars}


# The notes' superscript labels (h^k, h^{(k)}, W⁽³⁾ are names): other tools write a^b for a
# power, so their dialects read no labels.
LABEL = r"(?:\^\{\([A-Za-z0-9]+\)\}|\^(?!T)[A-Za-z](?![A-Za-z0-9(])|⁽[⁰¹²³⁴-⁹]+⁾)?"


def grammar_for(grammar: str, syntax: str) -> str:
    """The grammar with the dialect's function names added to CALLFUNC (and, outside
    matdiff's own syntax, no superscript labels)."""
    if syntax == "matdiff":
        return grammar
    assert LABEL in grammar, "the NAME rule's label part changed: update dialects.LABEL"
    grammar = grammar.replace(LABEL, "", 1)
    extra = DIALECT_FUNCTIONS[syntax]
    if not extra:
        return grammar
    names = "|".join(sorted(extra, key=len, reverse=True))
    return grammar.replace("CALLFUNC.4: /(", f"CALLFUNC.4: /({names}|", 1)
