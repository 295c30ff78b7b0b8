"""The language: reading the input notation and printing results as text, Unicode and LaTeX."""
