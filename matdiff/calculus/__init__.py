"""The calculus: differentials, simplification, Jacobians and index notation."""
