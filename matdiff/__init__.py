"""matdiff — symbolic matrix calculus as lecture notes write it.

    >>> import matdiff
    >>> d = matdiff.diff("(x − As)ᵀW(x − As)", "s", symmetric=["W"])
    >>> d.pretty()
    '−2AᵀW(x − As)'

``import matdiff`` loads neither sympy nor numpy; they load when a value is computed or
a derivative verified.
"""
from .api import (
    Derivative,
    Gradients,
    Hessian,
    Program,
    Stacked,
    Taylor,
    compile,
    diff,
    evaluate,
    gradients,
    hessian,
    parse,
    parse_program,
    taylor,
    verify,
    vjp,
)
from .calculus.simplify import simplify
from .core.errors import (
                     DeclarationError,
                     DomainError,
                     EvaluationError,
                     MatdiffError,
                     NoRuleError,
                     ParseError,
                     ShapeError,
                     UnknownFunctionError,
                     VerificationError,
)
from .core.nodes import Expr
from .language.render import to_latex, to_pretty, to_text

__version__ = "0.1.0"

__all__ = ["parse", "parse_program", "Program", "evaluate", "Stacked", "taylor", "Taylor", "compile",
           "diff", "hessian", "Hessian", "gradients", "vjp", "Gradients",
           "verify", "simplify", "Derivative", "Expr", "to_text", "to_pretty",
           "to_latex", "MatdiffError", "ParseError", "UnknownFunctionError", "ShapeError",
           "DeclarationError", "DomainError", "NoRuleError", "EvaluationError", "VerificationError"]
