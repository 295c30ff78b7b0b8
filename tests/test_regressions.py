"""Named regression tests: every wrong answer or crash the fuzzer (tests/test_fuzz.py)
found, kept so that it cannot come back."""
import pytest

import matdiff


def test_fuzz_zero_over_zero_literal():
    """'0/0' lexed as one fraction literal and raised ZeroDivisionError."""
    with pytest.raises(matdiff.DomainError, match="divides by zero"):
        matdiff.parse("0/0")


def test_fuzz_division_by_a_zero_found_by_simplification():
    """1/(α − α): the denominator is 0 only once simplified; it raised ZeroDivisionError."""
    with pytest.raises(matdiff.DomainError, match="divides by zero"):
        matdiff.diff("1/(α − α)", "α")


@pytest.mark.parametrize("text, wrt", [
    ("log(α − α)", "α"), ("sum(x ./ (x − x))", "x"), ("sum((X − X)⁻¹)", "X"),
    ("aᵀx/(xᵀx − xᵀx)", "x"),
])
def test_undefined_expressions_are_refused_not_differentiated(text, wrt):
    """The same family: a derivative of something undefined must not cancel to 0."""
    with pytest.raises(matdiff.DomainError):
        matdiff.diff(text, wrt)
