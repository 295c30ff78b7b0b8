"""Typed errors: every user-facing failure is a MatdiffError (a ValueError).

A source-located error carries the source text and a character span; ``str(err)``
is the one-line message followed by the source line with a caret underneath.
"""
from __future__ import annotations


class MatdiffError(ValueError):
    """Base class of every error matdiff raises on bad input."""

    def __init__(self, message: str, source: str | None = None,
                 span: tuple[int, int] | None = None):
        super().__init__(message)
        self.message = message
        self.source = source
        self.span = span

    @property
    def line(self) -> int | None:
        if self.source is None or self.span is None:
            return None
        return self.source.count("\n", 0, self.span[0]) + 1

    @property
    def column(self) -> int | None:
        if self.source is None or self.span is None:
            return None
        return self.span[0] - (self.source.rfind("\n", 0, self.span[0]) + 1) + 1

    def context(self) -> str:
        """The offending source line with carets under the span ('' if unknown)."""
        if self.source is None or self.span is None:
            return ""
        start, end = self.span
        line_start = self.source.rfind("\n", 0, start) + 1
        line_end = self.source.find("\n", start)
        line_end = len(self.source) if line_end < 0 else line_end
        width = max(1, min(end, line_end) - start)
        return f"  {self.source[line_start:line_end]}\n  {' ' * (start - line_start)}{'^' * width}"

    def __str__(self) -> str:
        where = f" (line {self.line}, column {self.column})" if self.line is not None else ""
        ctx = self.context()
        return f"{self.message}{where}" + (f"\n{ctx}" if ctx else "")


class ParseError(MatdiffError):
    """The text is not a matdiff expression (syntax)."""


class UnknownFunctionError(ParseError):
    """A name used as a function is not one matdiff knows."""


class DeclarationError(MatdiffError):
    """A shape or structure declaration (``--let``, ``shapes=``) is malformed."""


class ShapeError(MatdiffError):
    """Shapes do not fit: the message quotes both shapes and the source at fault."""


class DomainError(MatdiffError):
    """The expression is undefined as written (a division by zero)."""


class NoRuleError(MatdiffError):
    """The expression is valid but matdiff has no rule for this operation."""


class EvaluationError(MatdiffError):
    """Values given to ``evaluate`` are missing, mis-shaped or not finite."""


class VerificationError(MatdiffError):
    """A derivative failed its numerical check."""
