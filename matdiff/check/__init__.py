"""The checks: numeric evaluation and the verifiers (elementwise sympy, central differences)."""
