"""The vocabulary shared by reading and printing: Greek letters, function names, and how
names are spelled (``W1``, ``W_1``, ``W₁`` are one name) and split (``Wx`` = W·x)."""
from __future__ import annotations

import re

from .nodes import Det, Diag, Inverse, LogDet, LogSumExp, Softmax, Sum, Trace, Vec

GREEK = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "zeta": "ζ",
    "eta": "η", "theta": "θ", "iota": "ι", "kappa": "κ", "lambda": "λ", "mu": "μ", "nu": "ν",
    "xi": "ξ", "omicron": "ο", "pi": "π", "rho": "ρ", "sigma": "σ", "tau": "τ",
    "upsilon": "υ", "phi": "φ", "chi": "χ", "psi": "ψ", "omega": "ω",
    "Gamma": "Γ", "Delta": "Δ", "Theta": "Θ", "Lambda": "Λ", "Xi": "Ξ", "Pi": "Π",
    "Sigma": "Σ", "Upsilon": "Υ", "Phi": "Φ", "Psi": "Ψ", "Omega": "Ω",
}
GREEK_NAMES = {v: k for k, v in GREEK.items()}

FUNCTIONS = {
    "tr": Trace, "trace": Trace, "Tr": Trace, "det": Det, "Det": Det, "logdet": LogDet,
    "inv": Inverse, "sum": Sum, "diag": Diag, "softmax": Softmax, "logsumexp": LogSumExp,
    "log": "log", "ln": "log", "exp": "exp", "sin": "sin", "cos": "cos", "tanh": "tanh",
    "sigmoid": "sigmoid", "σ": "sigmoid", "sigma": "sigmoid", "sqrt": "sqrt", "vec": Vec,
}
FUNCTION_NAMES = sorted(set(FUNCTIONS) - {"Tr", "Det", "σ", "sigma"})

_SUB_DIGITS = str.maketrans("₀₁₂₃₄₅₆₇₈₉", "0123456789")
_UNIT = re.compile(r"([A-Za-zͰ-Ͽ𝟏])([0-9]+|[₀-₉]+|_(?:[0-9]+|[A-Za-z]|\{[A-Za-z0-9]+\}))?")
_NAME = re.compile(r"^(?:[A-Za-zͰ-Ͽ](?:[0-9]+|[₀-₉]+|_(?:[0-9]+|[A-Za-z]|\{[A-Za-z0-9]+\}))?)+$")

_SUBSCRIPT = re.compile(r"[0-9]+|[₀-₉]+|_(?:[0-9]+|[A-Za-z]|\{[A-Za-z0-9]+\})")

def canonical_name(raw: str) -> str:
    """One spelling per name: W1, W_1, W₁, W_{1} → 'W_1'; alpha → 'α'."""
    raw = raw.strip()
    if raw in GREEK:
        return GREEK[raw]
    greek = next((g for g in sorted(GREEK, key=len, reverse=True) if raw.startswith(g)), None)
    if greek and _SUBSCRIPT.fullmatch(raw[len(greek):]):
        return canonical_name(GREEK[greek] + raw[len(greek):])
    m = _UNIT.fullmatch(raw)
    if not m:
        return raw
    letter, sub = m.groups()
    if not sub:
        return letter
    sub = sub.translate(_SUB_DIGITS).lstrip("_").strip("{}")
    return f"{letter}_{sub}"


def is_valid_name(name: str) -> bool:
    """Declared names: a letter (Latin or Greek, or a Greek word) with optional subscript,
    or a run of such letters."""
    return name in GREEK or bool(_NAME.match(name))


def split_run(run: str, declared: frozenset[str]) -> list[tuple[str, int, int]]:
    """Split a letter run into (canonical name, start, end) pieces.

    Declared multi-letter names win, then Greek words, then one letter with its optional
    subscript: ``Wx`` → W, x; ``W1x`` → W_1, x; ``alphax`` → α, x.
    """
    pieces, i = [], 0
    longer = sorted((d for d in declared if len(d) > 1), key=len, reverse=True)
    while i < len(run):
        match = next((d for d in longer if run.startswith(d, i)), None)
        greek = next((g for g in sorted(GREEK, key=len, reverse=True)
                      if run.startswith(g, i)), None)
        if match is None and greek is not None:   # mu0 → μ₀
            sub = _SUBSCRIPT.match(run, i + len(greek))
            match = greek + (sub.group(0) if sub else "")
        if match is None:
            match = _UNIT.match(run, i).group(0)
        pieces.append((canonical_name(match), i, i + len(match)))
        i += len(match)
    return pieces
