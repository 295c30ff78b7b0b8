"""The identity library: entries of identities/*.toml, loaded and checked.

Each entry is derived from its expression alone and compared with the textbook result
numerically and by printed size (see identities/README.md).
"""
from __future__ import annotations

import time
import tomllib
from dataclasses import dataclass, field

from .resources import identities_dir


@dataclass(frozen=True)
class Identity:
    id: str
    section: str
    source: str
    expr: str
    wrt: str
    result: str
    let: str = ""
    note: str = ""
    kind: str = "gradient"
    wrt2: str = ""
    layout: str = ""
    convention: str = "unconstrained"
    index: str = ""

    def derive(self):
        """The derivative, from the expression alone."""
        from .api import diff, hessian
        if self.kind == "hessian":
            return hessian(self.expr, self.wrt, self.wrt2 or None, shapes=self.let,
                           layout=self.layout or None)
        return diff(self.expr, self.wrt, shapes=self.let, layout=self.layout or None,
                    convention=self.convention)


FILES = ("gradients", "derivatives", "layers")


def load(name: str | None = None) -> list[Identity]:
    """The entries of one file (``gradients``, ``derivatives``), or of all of them."""
    entries = []
    for file in ([name] if name else FILES):
        with open(identities_dir() / f"{file}.toml", "rb") as f:
            entries += [Identity(**entry) for entry in tomllib.load(f)["identity"]]
    return entries


def printed_size(text: str) -> int:
    """The printed size: characters without spaces and brackets."""
    return sum(1 for ch in text if not ch.isspace() and ch not in "()")


@dataclass
class Outcome:
    identity: Identity
    derived: str
    textbook: str
    same_value: bool
    exact: bool
    size_ok: bool
    check: object = field(repr=False)
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return self.same_value and self.size_ok and bool(self.check)


def check_identity(entry: Identity, seed: int = 0) -> Outcome:
    """Derive from the expression alone; compare with the textbook result three ways:
    numerically, by printed size, and by the sympy verifier."""
    import numpy as np

    from .api import parse_like
    from .check.evaluate import evaluate
    from .check.verifier import _user, choose_sizes, random_point
    from .core.nodes import symbols_of
    from .core.shapes import numpy_shape
    from .language.render import to_pretty

    start = time.perf_counter()
    d = entry.derive()
    form = d.main_form()
    textbook = parse_like(entry.result, d.symbols) if d.result is not None else None
    exprs = [d.expr, form] + ([textbook] if textbook is not None else [])
    sizes = choose_sizes(exprs, d.wrt, start=3)
    symbols = {**d.symbols, **(symbols_of(textbook) if textbook is not None else {})}
    point = random_point(symbols, sizes, seed)
    values = {n: _user(v, symbols[n].shape) for n, v in point.items()}
    ours = np.asarray(evaluate(form, values, sizes, symbols), dtype=float)
    if textbook is not None:
        theirs = np.asarray(evaluate(textbook, values, sizes, symbols), dtype=float)
        printed = to_pretty(textbook)
    else:   # a vec/Kronecker form: against the tensor itself, column-major
        tensor = d._tensor(values, sizes)
        f_size = int(np.prod(tensor.shape[:tensor.ndim - len(numpy_shape(d.wrt.shape))]))
        theirs = tensor.reshape((f_size, -1), order="F")
        printed = entry.result
    same = ours.shape == theirs.shape and bool(np.allclose(ours, theirs, rtol=1e-9, atol=1e-11))
    if entry.index and d.index() != entry.index:
        same = False
    derived = d.pretty()
    check = d.verify(seed=seed)
    return Outcome(entry, derived, printed, same, derived == printed,
                   printed_size(derived) <= printed_size(printed), check,
                   time.perf_counter() - start)



# ----- tables and the LaTeX handout ---------------------------------------------------------

_TEXT_MATH = {   # Unicode in prose (sources, notes) → LaTeX that pdflatex reads
    "∂": r"\partial ", "ᵀ": r"^{\top}", "⁻¹": r"^{-1}", "‖": r"\|", "σ": r"\sigma ",
    "⊙": r"\odot ", "∈": r"\in ", "ℝ": r"\mathbb{R}", "∇": r"\nabla ", "𝟏": r"\mathbf{1}",
    "−": "-", "·": r"\cdot ", "×": r"\times ", "²": "^{2}", "³": "^{3}", "⁴": "^{4}",
    "ŷ": r"\hat{y}", "Ŷ": r"\hat{Y}", "δ": r"\delta ", "λ": r"\lambda ", "μ": r"\mu ",
    "Σ": r"\Sigma ", "⊗": r"\otimes ", "₁": "_1", "₂": "_2", "ᵢ": "_i", "ⱼ": "_j",
    "ₖ": "_k", "ₗ": "_l", "θ": r"\theta ", "α": r"\alpha ",
}
_TEXT_PLAIN = {"§": r"\S{}", "—": "---", "–": "--", "’": "'", "“": "``", "”": "''"}
_TEXT_ESCAPE = {"&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{",
                "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
                "\\": r"\textbackslash{}"}


def latex_text(text: str) -> str:
    """Prose for LaTeX: specials escaped, Unicode mathematics as inline math, the rest
    dropped to '?' so that nothing can break the document."""
    out = []
    for i, ch in enumerate(text):
        if ch == "⁻" and text[i + 1:i + 2] == "¹":
            out.append(r"$^{-1}$")
        elif ch == "¹" and text[i - 1:i] == "⁻":
            continue
        elif ch in _TEXT_MATH:
            out.append(f"${_TEXT_MATH[ch]}$")
        elif ch in _TEXT_ESCAPE:
            out.append(_TEXT_ESCAPE[ch])
        elif ch in _TEXT_PLAIN:
            out.append(_TEXT_PLAIN[ch])
        elif ch.isascii():
            out.append(ch)
        else:
            out.append("?")
    return "".join(out)


def equation(d) -> str:
    """A derivative as a LaTeX equation: left side from the expression, right as derived."""
    from .api import Hessian
    from .language.render import to_latex
    hessian = isinstance(d, Hessian)
    f, x = to_latex(d.f if hessian else d.expr), to_latex(d.wrt)
    if hessian:
        first = to_latex(d.first)
        lhs = (rf"\frac{{\partial^2}}{{\partial {first}\,\partial {x}}}" if first != x
               else rf"\frac{{\partial^2}}{{\partial {x}^2}}") + rf"\left({f}\right)"
        if d.result is None:
            lhs = rf"\frac{{\partial\,\mathrm{{vec}}\,\nabla_{{{first}}}}}{{\partial\,\mathrm{{vec}}({x})^\top}}"
    elif d.result is None:
        lhs = rf"\frac{{\partial\,\mathrm{{vec}}\left({f}\right)}}{{\partial\,\mathrm{{vec}}({x})^\top}}"
    else:
        lhs = rf"\frac{{\partial}}{{\partial {x}}}\left({f}\right)"
    return f"{lhs} = {d.latex()}"


def handout(entries: list[Identity]) -> str:
    """A complete LaTeX document: conventions first, then one section per topic."""
    sections: dict[str, list[Identity]] = {}
    for e in entries:
        sections.setdefault(e.section, []).append(e)
    body = [_PREAMBLE]
    for name, items in sections.items():
        body.append(f"\\section{{{latex_text(name)}}}")
        for e in items:
            d = e.derive()
            note = f" --- {latex_text(e.note)}" if e.note else ""
            body.append(f"\\paragraph{{\\texttt{{{latex_text(e.id)}}}}} "
                        f"{latex_text(e.source)}{note}; {latex_text(d.convention_text())}.\n"
                        f"\\begin{{equation*}}\n{equation(d)}\n\\end{{equation*}}")
    body.append("\\end{document}\n")
    return "\n\n".join(body)


_PREAMBLE = r"""\documentclass[10pt]{article}
\usepackage[utf8]{inputenc}
\usepackage{amsmath,amssymb}
\usepackage[margin=2cm]{geometry}
\allowdisplaybreaks
\title{Matrix calculus identities\\\large derived and verified by matdiff}
\date{}
\begin{document}
\maketitle

\section*{Conventions}
Every identity below was derived by matdiff from its left-hand side alone and checked
numerically against elementwise derivatives (sympy) at small distinct sizes.
\begin{itemize}
\item Gradients of scalars are in \emph{denominator layout}: $\partial f/\partial X$ has the
  shape of $X$. Jacobians of $f\in\mathbb{R}^m$ by $x\in\mathbb{R}^n$ are in
  \emph{numerator layout}: $m\times n$, $\partial f_i/\partial x_j$ in row $i$.
\item Higher-rank derivatives are written in vec/Kronecker form with the column-major
  $\mathrm{vec}$: $\mathrm{d}\,\mathrm{vec}(F) = M\,\mathrm{d}\,\mathrm{vec}(X)$;
  $K_{m,n}$ is the commutation matrix, $K\,\mathrm{vec}(X)=\mathrm{vec}(X^\top)$.
\item Lowercase letters are column vectors, uppercase letters matrices, Greek letters
  scalars unless declared otherwise; $\exp$, $\log$, $\sigma$, $\tanh$ act entrywise;
  $\odot$ is the entrywise product, $\mathbf{1}$ the vector of ones.
\item For a symmetric variable the gradient is the unconstrained one unless the
  symmetric convention ($G + G^\top - \operatorname{diag}(G)$) is stated.
\end{itemize}
\newpage"""


def markdown_table(entries: list[Identity]) -> str:
    """The README's identity table (kept in sync by a test)."""
    rows = ["| id | expression | variable | result | source |", "|---|---|---|---|---|"]
    for e in entries:
        d = e.derive()
        wrt = f"{e.wrt}, {e.wrt2}" if e.wrt2 else e.wrt
        cell = d.pretty().replace("|", "\\|")
        kind = "" if e.kind in ("gradient",) else f" ({e.kind})"
        rows.append(f"| `{e.id}` | {e.expr.replace('|', chr(92) + '|')} | {wrt}{kind} | "
                    f"{cell} | {e.source.replace('|', chr(92) + '|')} |")
    return "\n".join(rows)
