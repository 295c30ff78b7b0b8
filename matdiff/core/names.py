"""The vocabulary shared by reading and printing: Greek letters, function names, and how
names are spelled (``W1``, ``W_1``, ``W₁`` are one name) and split (``Wx`` = W·x)."""
from __future__ import annotations

import re
import unicodedata

from .nodes import (
    Det,
    Diag,
    Inverse,
    LogDet,
    LogSoftmax,
    LogSumExp,
    Mean,
    Softmax,
    Sum,
    Trace,
    Vec,
)

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
    # the functions ML uses (entrywise) and their reductions
    "tan": "tan", "arcsin": "arcsin", "arccos": "arccos", "arctan": "arctan",
    "relu": "relu", "softplus": "softplus", "abs": "abs", "sign": "sign", "step": "step",
    "mean": Mean, "log_softmax": LogSoftmax,
}
# Functions read by the parser itself (several arguments, a subscript or a desugaring):
# max(0, u) = relu(u); norm1(u) = ‖u‖₁ = sum(abs(u)); norm2(u) = ‖u‖; vector(1) = 𝟏;
# matrix(1) = 𝟏𝟏ᵀ; softmax_rows/_cols and logsumexp_rows/_cols name the axis.
SPECIAL_FUNCTIONS = ("max", "norm1", "norm2", "vector", "matrix", "softmax_rows",
                     "softmax_cols", "logsumexp_rows", "logsumexp_cols")
# Constants written as words (unless declared as symbols): eye = I, ones = 𝟏.
CONSTANT_WORDS = ("eye", "ones")
FUNCTION_NAMES = sorted((set(FUNCTIONS) | set(SPECIAL_FUNCTIONS)) -
                        {"Tr", "Det", "σ", "sigma"})

ACCENTS = {"hat": "\u0302", "bar": "\u0304", "tilde": "\u0303"}   # combining marks
ACCENT_NAMES = {v: k for k, v in ACCENTS.items()}

_SUB_DIGITS = str.maketrans("₀₁₂₃₄₅₆₇₈₉", "0123456789")
_SUPER_DIGITS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁽⁾", "0123456789()")
_LETTER = "[A-Za-zÀ-ÖØ-öø-ɏͰ-Ͽ𝟏][\u0302\u0303\u0304]?"
# a name's optional parts after its letter: an accent written out, a subscript, a
# superscript label (h^{(k)}, W^{(3)}, h^{k}, h^k with k a letter other than T)
_SUFFIX = (r"(?P<acc>_(?:hat|bar|tilde)(?![a-z]))?"
           r"(?P<sub>[0-9]+|[₀-₉]+|_(?:[0-9]+|[A-Za-z]|\{[A-Za-z0-9]+\}))?"
           r"(?P<label>\^\{\([A-Za-z0-9]+\)\}|\^\((?=[A-Za-z])[A-Za-z0-9]+\)"
           r"|\^\{(?!T\})[A-Za-z]\}|\^(?![T])[A-Za-z](?![A-Za-z0-9(])|⁽[⁰¹²³⁴-⁹]+⁾)?")
_UNIT = re.compile(f"(?P<letter>{_LETTER}){_SUFFIX}")
_SUFFIX_ONLY = re.compile(_SUFFIX)
_NAME = re.compile(f"^(?:{_LETTER}{_SUFFIX})+$")
_LATEX_ACCENT = re.compile(r"\\(hat|bar|tilde)\s*\{\s*(.+?)\s*\}(.*)$")
_LATEX_FONT = re.compile(r"\\(?:mathbf|boldsymbol|bm|mathit|mathcal)\s*\{\s*(.+?)\s*\}(.*)$")

_SUBSCRIPT_TAIL = re.compile(r"[0-9₀-₉}]")
_SUBSCRIPT = re.compile(r"[0-9]+|[₀-₉]+|_(?:[0-9]+|[A-Za-z]|\{[A-Za-z0-9]+\})")

def canonical_name(raw: str) -> str:
    """One spelling per name: W1, W_1, W₁, W_{1} → 'W_1'; alpha → 'α'; ŷ, y_hat, \\hat{y}
    → 'ŷ' (NFC: one character where Unicode has one); W^{(3)} → 'W^(3)'; h^k → 'h^k'."""
    raw = unicodedata.normalize("NFD", raw.strip())
    latex = _LATEX_ACCENT.match(raw) or _LATEX_FONT.match(raw)
    if latex and latex.re is _LATEX_ACCENT:
        return canonical_name(canonical_name(latex.group(2)) + "_" + latex.group(1) +
                              latex.group(3))
    if latex:
        return canonical_name(latex.group(1) + latex.group(2))
    if raw.startswith("\\") and raw[1:] in GREEK:
        return GREEK[raw[1:]]
    if raw in GREEK:
        return GREEK[raw]
    greek = next((g for g in sorted(GREEK, key=len, reverse=True) if raw.startswith(g)), None)
    if greek and raw[len(greek):] and _SUFFIX_ONLY.fullmatch(raw[len(greek):]):
        return canonical_name(GREEK[greek] + raw[len(greek):])
    m = _UNIT.fullmatch(raw)
    if not m:
        return unicodedata.normalize("NFC", raw)
    return spell(m.group("letter"), m.group("acc"), m.group("sub"), m.group("label"))


def spell(letter: str, accent: str | None, sub: str | None, label: str | None) -> str:
    """The canonical spelling from a name's parts (as _UNIT matched them)."""
    sub = sub.translate(_SUB_DIGITS).lstrip("_").strip("{}") if sub else ""
    if not accent and sub in ACCENTS:   # y_{hat} as y_hat
        accent, sub = sub, ""
    if accent:
        letter += ACCENTS[accent.lstrip("_")]
    if sub:
        letter += "_" + sub
    if label:
        body = label.lstrip("^").strip("{}").translate(_SUPER_DIGITS)
        letter += "^" + body
    return unicodedata.normalize("NFC", letter)


def name_parts(name: str) -> tuple[str, str, str, str]:
    """(letter, accent word or '', subscript or '', label or '') of a canonical name."""
    head, _, label = unicodedata.normalize("NFD", name).partition("^")
    letter, _, sub = head.partition("_")
    accent = next((w for w, mark in ACCENTS.items() if letter.endswith(mark)), "")
    return letter[:len(letter) - bool(accent)], accent, sub, label


def is_valid_name(name: str) -> bool:
    """Declared names: a letter (Latin or Greek, or a Greek word) with optional accent,
    subscript and label, or a run of such letters."""
    name = unicodedata.normalize("NFD", name)
    head, _, label = name.partition("^")
    if label[1:-1].isalnum() and label[0] + label[-1] == "()":   # canonical W^(3)
        name = head
    return name in GREEK or bool(_NAME.match(name)) or canonical_name(name) != name


def split_run(run: str, declared: frozenset[str]) -> list[tuple[str, int, int]]:
    """Split a letter run into (canonical name, start, end) pieces.

    Declared multi-letter names win, then Greek words, then one letter with its optional
    subscript: ``Wx`` → W, x; ``W1x`` → W_1, x; ``alphax`` → α, x.
    """
    pieces, i = [], 0
    longer = sorted((d for d in declared if len(d) > 1), key=len, reverse=True)
    while i < len(run):
        match = next((d for d in longer if run.startswith(d, i) and
                      not _SUBSCRIPT_TAIL.match(run, i + len(d))), None)   # n_1 in n_12
        greek = next((g for g in sorted(GREEK, key=len, reverse=True)
                      if run.startswith(g, i)), None)
        if match is None and greek is not None:   # mu0 → μ₀
            sub = _SUFFIX_ONLY.match(run, i + len(greek))
            match = greek + (sub.group(0) if sub else "")
        if match is None:
            match = _UNIT.match(run, i).group(0)
        pieces.append((canonical_name(match), i, i + len(match)))
        i += len(match)
    return pieces
