"""Step-by-step derivations: the differential engine's rules, one application at a time.

A derivation starts from d(F) and applies, outermost first, the rule that
:mod:`matdiff.calculus.diff` itself uses for that node (``rule_step``: the same function,
given ``d(child)`` as an unexpanded marker), until only dX is left.  Then the terms are
collected, each term is turned by trace cyclicity into tr(Gₖᵀ dX), the Gₖ are collected
and the result is read off.  Each :class:`Step` is an equality with the step before it;
``matdiff.check.steps.check_steps`` confirms that numerically at a random point.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..core.nodes import Add, Differential, Expr, Mul, Symbol, Trace, Transpose, Vec, Zero
from .diff import gradient, rule_step
from .simplify import is_zero, simplify

# What a step's expression equals (the checker evaluates each kind against dF):
#   differential  dF itself, an expression in d(·) markers
#   vec           vec(dF)
#   gradient      ∇ with dF = tr(∇ᵀ dX)   (transposed in numerator layout)
#   symmetric     the gradient by the independent entries of a symmetric X
#   jacobian      J with dF = J dx (numerator) or Jᵀ dx (denominator)
#   by scalar     F′ with dF = F′ dx
KINDS = ("differential", "vec", "gradient", "symmetric", "jacobian", "by scalar")


@dataclass(frozen=True)
class Step:
    """One line of a derivation: ``rule`` turns the previous line into ``expr``."""
    rule: str
    expr: Expr
    kind: str       # one of KINDS: what expr equals
    of: Expr        # F, whose differential the line is about
    wrt: Symbol     # X
    transposed: bool = False   # a Jacobian in denominator layout (n×m)

    def lhs(self, style: str = "pretty", bold: bool = False) -> str:
        """The left-hand side: d(F), vec(dF), ∂f/∂X, …"""
        from ..language.render import to_latex, to_pretty
        show = (lambda e: to_latex(e, bold=bold)) if style == "latex" else to_pretty
        x = show(self.wrt)
        if self.kind == "differential":
            return show(Differential(self.of)) if not isinstance(self.of, Symbol) else \
                ("\\mathrm{d}" if style == "latex" else "d") + show(self.of)
        if self.kind == "vec":
            return show(Vec(Differential(self.of)))
        f = show(self.of)
        if style == "latex":
            return f"\\frac{{\\partial {_group(f)}}}{{\\partial {x}}}"
        return f"∂{_paren(f)}/∂{x}"


def _paren(text: str) -> str:
    return text if len(text) == 1 else f"({text})"


def _group(text: str) -> str:
    return text if len(text) == 1 else f"\\left({text}\\right)"


def expand_differential(F: Expr, x: Symbol) -> list[Step]:
    """d(F), then one engine rule per step (outermost first) until only dX remains, then
    the terms collected (``simplify``)."""
    expr: Expr = Differential(F) if _depends(F, x) else Zero(F.shape)
    steps: list[Step] = []
    if isinstance(F, Symbol) or not _depends(F, x):   # dX itself, or a constant: d c = 0
        rule = "the variable's own differential" if _depends(F, x) else \
            f"constant in {x.name}: dc = 0"
        steps.append(Step(rule, expr, "differential", F, x))
    while True:
        target = _first_open(expr)
        if target is None:
            break
        rule, result = rule_step(target.of, x, lambda k: _marker(k, x))
        expr = _replace(expr, target, result)
        steps.append(Step(_rule_text(rule), expr, "differential", F, x))
    collected = simplify(expr)
    if collected != expr:
        steps.append(Step("collect terms", collected, "differential", F, x))
    return steps


def _marker(k: Expr, x: Symbol) -> Expr:
    """d(k) left for a later step; Zero where k does not involve x."""
    if not _depends(k, x):
        return Zero(k.shape)
    return Differential(k)


def _depends(e: Expr, x: Symbol) -> bool:
    from ..core.nodes import symbols_of
    return x.name in symbols_of(e)


def _first_open(e: Expr) -> Differential | None:
    """The first (outermost, leftmost) d(U) with U not a symbol."""
    stack = [e]
    while stack:
        node = stack.pop()
        if isinstance(node, Differential):
            if not isinstance(node.of, Symbol):
                return node
            continue
        stack.extend(reversed(node.children()))
    return None


def _replace(e: Expr, target: Expr, by: Expr) -> Expr:
    memo: dict[int, Expr] = {}

    def go(node: Expr) -> Expr:
        if node is target:
            return by
        if isinstance(node, Differential) or not node.children():
            return node
        if id(node) not in memo:
            kids = [go(k) for k in node.children()]
            memo[id(node)] = node if all(a is b for a, b in zip(kids, node.children())) \
                else node.rebuild(kids)
        return memo[id(node)]
    return go(e)


def _rule_text(doc: str) -> str:
    """'Product rule: d(XY) = dX Y + X dY.' → 'product rule: d(XY) = dX Y + X dY'."""
    text = doc.rstrip(".")
    return text[0].lower() + text[1:] if text[:1].isupper() and text[1:2].islower() else text


def gradient_steps(F: Expr, x: Symbol, df: Expr) -> tuple[list[Step], Expr]:
    """From the collected differential to tr(Gᵀ dX): each term by trace cyclicity, then
    the Gₖ collected; returns the steps and G (shaped like X)."""
    terms = df.terms if isinstance(df, Add) else (df,)
    parts = [simplify(gradient(t, x)) for t in terms if not is_zero(t)]
    steps = []
    if len(parts) > 1 or (parts and _read_form(parts[0], x) != df):
        rule = "scalars commute: each term as gₖ dx" if x.shape == () else \
            "transpose: each term as gₖᵀdx" if x.shape[1] == 1 and \
            not any(isinstance(t, Trace) for t in terms) else \
            "cyclic trace: tr(AB) = tr(BA), tr(Aᵀ) = tr(A), each term as tr(Gₖᵀ dX)"
        steps.append(Step(rule, _sum(_read_form(g, x) for g in parts), "differential", F, x))
    G = simplify(Add(tuple(parts))) if len(parts) > 1 else parts[0] if parts else \
        Zero(x.shape)
    if len(parts) > 1:
        steps.append(Step("collect: Σₖ tr(Gₖᵀ dX) = tr((Σₖ Gₖ)ᵀ dX)", _read_form(G, x),
                          "differential", F, x))
    return steps, G


def _sum(terms) -> Expr:
    terms = tuple(terms)
    return terms[0] if len(terms) == 1 else Add(terms)


def _read_form(G: Expr, x: Symbol) -> Expr:
    """tr(Gᵀ dX) as printed in the notes, Gᵀ simplified: tr(BA dX); gᵀdx for a vector,
    g dx for a scalar."""
    dx = Differential(x)
    if x.shape == ():
        return Mul(_factors(G) + (dx,))
    Gt = simplify(Transpose(G))
    product = Mul(_factors(Gt) + (dx,))
    return product if x.shape[1] == 1 else Trace(product)


def _factors(e: Expr) -> tuple[Expr, ...]:
    return e.factors if isinstance(e, Mul) else (e,)


def derivation(d) -> list[Step]:
    """The steps of a :class:`matdiff.api.Derivative` (any kind)."""
    F, x = d.expr, d.wrt
    steps = expand_differential(F, x)
    df = steps[-1].expr
    if d.kind == "gradient":
        more, G = gradient_steps(F, x, df)
        steps += more
        unconstrained = G if d.layout == "denominator" or x.shape == () or x.shape[1] != 1 \
            else simplify(Transpose(G))
        name = "read off tr(Gᵀ dX): ∂f/∂X = G" if x.shape[1:] != (1,) else \
            "read off gᵀdx: ∂f/∂x = g" + ("ᵀ (numerator layout)" if d.layout == "numerator"
                                           else "")
        if x.shape == ():
            name = "read off g dx: ∂f/∂x = g"
        steps.append(Step(name, unconstrained, "gradient", F, x))
        if d.convention == "symmetric" and x.symmetric and x.shape[0] != 1:
            steps.append(Step("symmetric convention: G + Gᵀ − diag(G), each pair Xᵢⱼ = Xⱼᵢ "
                              "one parameter (Matrix Cookbook §2.8.2)", d.result,
                              "symmetric", F, x))
    elif d.kind == "by scalar" and d.result is not None:
        steps.append(Step("read off dF = F′ dx", d.result, "by scalar", F, x))
    elif d.kind == "jacobian" and d.result is not None:
        J = d.result if d.layout == "numerator" else simplify(Transpose(d.result))
        read = Mul(_factors(J) + (Differential(x),))
        if read != df:   # already J dx: nothing to rewrite
            steps.append(Step("read off dF = J dx", read, "differential", F, x))
        steps.append(Step("the Jacobian" + (" (numerator layout: m×n)" if d.layout ==
                                            "numerator" else ", transposed (denominator "
                                            "layout: n×m)"), d.result, "jacobian", F, x,
                           d.layout == "denominator"))
    elif d.kron is not None:
        M = d.kron if d.layout == "numerator" else simplify(Transpose(d.kron))
        steps.append(Step("vectorise: vec(AXB) = (Bᵀ ⊗ A) vec X, then read off "
                          "d vec F = M d vec X", Mul((M, Vec(Differential(x)))), "vec", F, x))
    return steps


def step_dicts(steps: list[Step]) -> list[dict]:
    """The steps for JSON: rule, left-hand side, and the expression in text, Unicode and
    LaTeX."""
    from ..language.render import to_latex, to_pretty, to_text
    return [{"rule": s.rule, "lhs": s.lhs(), "kind": s.kind, "text": to_text(s.expr),
             "unicode": to_pretty(s.expr), "latex": to_latex(s.expr)} for s in steps]


def text_lines(steps: list[Step], ascii: bool = False) -> list[str]:
    """Unicode lines (``ascii``: expressions in the matdiff language): the left-hand side
    once per block, then ‘= expr   [rule]’."""
    from ..language.render import to_pretty, to_text
    show = to_text if ascii else to_pretty
    out, previous = [], None
    for s in steps:
        head = s.lhs()
        if (s.kind, s.of) != previous:
            out.append(f"{head} = {show(s.expr)}    [{s.rule}]")
        else:
            out.append(f"{' ' * len(head)} = {show(s.expr)}    [{s.rule}]")
        previous = (s.kind, s.of)
    return out


def latex_block(steps: list[Step], bold: bool = False) -> str:
    """An amsmath ``align*`` block, one step per line with its rule as a note."""
    from ..language.render import to_latex
    rows, previous = [], None
    for s in steps:
        lhs = s.lhs("latex", bold) if (s.kind, s.of) != previous else ""
        note = "" if s.rule == "differentiate" else f" && \\text{{{_latex_text(s.rule)}}}"
        rows.append(f"{lhs} &= {to_latex(s.expr, bold=bold)}{note}")
        previous = (s.kind, s.of)
    return "\\begin{align*}\n" + " \\\\\n".join(rows) + "\n\\end{align*}"


_LATEX_TEXT = {"⁻¹": "$^{-1}$", "⁻ᵀ": "$^{-\\top}$", "ᵀ": "$^{\\top}$", "⊙": "$\\odot$",
               "⊗": "$\\otimes$", "Σₖ": "$\\sum_k$", "Σᵢ": "$\\sum_i$", "′": "$'$", "−": "-",
               "×": "$\\times$", "§": "\\S{}", "∂": "$\\partial$", "𝟏": "$\\mathbf{1}$",
               "‖": "$\\|$", "_": "\\_", "&": "\\&", "%": "\\%", "#": "\\#", "$": "\\$",
               "^": "\\textasciicircum{}", "{": "\\{", "}": "\\}", "~": "\\~{}",
               "\\": "\\textbackslash{}"}
_LONGEST_FIRST = sorted(_LATEX_TEXT, key=len, reverse=True)


def _latex_text(text: str) -> str:
    """A rule's Unicode as text-mode LaTeX that pdflatex accepts."""
    from ..core.names import GREEK_NAMES
    out, i = [], 0
    while i < len(text):
        key = next((k for k in _LONGEST_FIRST if text.startswith(k, i)), None)
        if key is not None:
            out.append(_LATEX_TEXT[key])
            i += len(key)
            continue
        ch = text[i]
        out.append(f"$\\{GREEK_NAMES[ch]}$" if ch in GREEK_NAMES else
                   _fallback(ch) if ord(ch) > 127 else ch)
        i += 1
    return "".join(out)


def _fallback(ch: str) -> str:
    import unicodedata
    name = unicodedata.name(ch, "")
    if "SUBSCRIPT" in name or "SUPERSCRIPT" in name:
        base = unicodedata.normalize("NFKC", ch)
        return f"$_{{{base}}}$" if "SUBSCRIPT" in name else f"$^{{{base}}}$"
    return unicodedata.normalize("NFKD", ch).encode("ascii", "ignore").decode() or "?"
