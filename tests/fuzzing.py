"""Hypothesis strategies: random matdiff expressions whose shapes fit by construction.

Every construct of the language appears: products (juxtaposition, *, @, ·), transposes
in all spellings, inverses and powers of square matrices, Hadamard products and entrywise
division, every elementwise function, tr, det, logdet, sum, diag, norms, softmax,
logsumexp, scalar broadcasting, declared symmetric matrices.  Values stay in the domain:
log and sqrt only see 1 + u² or 1 + u ⊙ u, inverses, det and logdet only the square
symbols (whose random values are diagonally dominant), divisions only 1 + u².
"""
from __future__ import annotations

import os

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

DECLARATIONS = "x, z: vector n; y: vector m; A: m×n; B: n×n; C: m×m; S: symmetric n"
LEAVES = {
    "s": ["α", "β", "2", "½", "0.5"],
    "n": ["x", "z"], "m": ["y"],
    "mn": ["A"], "nm": ["Aᵀ", "A'", "A^T", "A.T"],
    "nn": ["B", "S", "Bᵀ"], "mm": ["C"],
}
SQUARE = {"nn": ["B", "S"], "mm": ["C"]}
ELEMENTWISE = ["exp", "sin", "cos", "tanh", "sigmoid", "σ"]
TRANSPOSE = ["ᵀ", "'", "^T", ".T"]
PRODUCT = [" ", " * ", " @ ", " · "]
HADAMARD = [" ⊙ ", " .* ", " ∘ "]
LONG_RUN = os.environ.get("MATDIFF_FUZZ_EXAMPLES")


def fuzz_settings(factor: float = 1.0):
    """A fixed, deterministic budget in CI (100 examples × factor); with
    MATDIFF_FUZZ_EXAMPLES=N every property runs N examples."""
    examples = int(LONG_RUN) if LONG_RUN else max(1, int(100 * factor))
    return settings(max_examples=examples, derandomize=True, deadline=None, database=None,
                    suppress_health_check=list(HealthCheck))


def rows(shape):
    return {"s": None, "n": "n", "m": "m"}.get(shape, shape[:1] if len(shape) == 2 else None)


@st.composite
def expression(draw, shape: str = "s", depth: int = 3) -> str:
    """Text of a random expression of the given shape: 's' scalar, 'n'/'m' vectors,
    'mn', 'nn', … matrices."""
    if depth <= 0 or draw(st.integers(0, 4)) == 0:
        return draw(st.sampled_from(LEAVES[shape]))
    sub = lambda s: draw(expression(s, depth - 1))   # noqa: E731
    pick = draw(st.integers(0, 99))
    if shape == "s":
        v = draw(st.sampled_from(["n", "m"]))
        sq = draw(st.sampled_from(["nn", "mm"]))
        options = [
            lambda: f"({sub(v)}){draw(st.sampled_from(TRANSPOSE))}({sub(v)})",
            lambda: f"tr({sub(sq)})",
            lambda: f"‖{sub(v)}‖²", lambda: f"||{sub(v)}||",
            lambda: f"‖{sub('mn')}‖_F",
            lambda: f"sum({sub(draw(st.sampled_from(['n', 'mn', 'nn'])))})",
            lambda: f"({sub('s')}) + ({sub('s')})", lambda: f"({sub('s')}) − ({sub('s')})",
            lambda: f"({sub('s')})({sub('s')})",
            lambda: f"{draw(st.sampled_from(ELEMENTWISE))}({sub('s')})",
            lambda: f"({sub('s')})²", lambda: f"({sub('s')})^3",
            lambda: f"logsumexp({sub(v)})",
            lambda: f"log(1 + ({sub('s')})²)", lambda: f"sqrt(1 + ({sub('s')})^2)",
            lambda: f"({sub('s')})/(1 + ({sub('s')})²)",
            lambda: f"{draw(st.sampled_from(['det', 'logdet', 'log det']))}"
                    f"({draw(st.sampled_from(SQUARE[sq]))})",
            lambda: f"({sub(v)})ᵀ{draw(st.sampled_from(SQUARE[sq if v == sq[0] else v * 2]))}⁻¹({sub(v)})",
        ] + USER_SIDE["s"](sub, draw, v, sq)
    elif shape in ("n", "m"):
        other = "m" if shape == "n" else "n"
        options = [
            lambda: f"({sub(shape + shape)})({sub(shape)})",
            lambda: f"({sub(shape + other)}){draw(st.sampled_from(PRODUCT))}({sub(other)})",
            lambda: f"({sub(shape)}) + ({sub(shape)})",
            lambda: f"({sub(shape)}) − ({sub(shape)})",
            lambda: f"({sub('s')})({sub(shape)})",
            lambda: f"({sub(shape)}){draw(st.sampled_from(HADAMARD))}({sub(shape)})",
            lambda: f"{draw(st.sampled_from(ELEMENTWISE))}({sub(shape)})",
            lambda: f"softmax({sub(shape)})",
            lambda: f"diag({sub(shape + shape)})",
            lambda: f"({sub(shape)}) ./ (1 + ({sub(shape)}) ⊙ ({sub(shape)}))",
            lambda: f"log(1 + ({sub(shape)}) ⊙ ({sub(shape)}))",
            lambda: f"1 + ({sub(shape)})",
            lambda: f"({sub(shape)})/(1 + ({sub('s')})²)",
            lambda: f"{draw(st.sampled_from(SQUARE[shape * 2]))}⁻¹({sub(shape)})",
        ] + USER_SIDE["v"](sub, draw, shape)
    else:
        r, c = shape[0], shape[1]
        inner = draw(st.sampled_from(["n", "m"]))
        options = [
            lambda: f"({sub(r + inner)}){draw(st.sampled_from(PRODUCT))}({sub(inner + c)})",
            lambda: f"({sub(c + r)}){draw(st.sampled_from(TRANSPOSE))}",
            lambda: f"({sub(shape)}) + ({sub(shape)})",
            lambda: f"({sub('s')})({sub(shape)})",
            lambda: f"({sub(shape)}){draw(st.sampled_from(HADAMARD))}({sub(shape)})",
            lambda: f"{draw(st.sampled_from(ELEMENTWISE))}({sub(shape)})",
            lambda: f"({sub(r)})({sub(c)}){draw(st.sampled_from(TRANSPOSE))}",
        ]
        if r == c:
            options += [lambda: f"diag({sub(r)})",
                        lambda: f"{draw(st.sampled_from(SQUARE[shape]))}⁻¹",
                        lambda: f"({sub(shape)})²", lambda: f"I + ({sub(shape)})"]
    return options[pick % len(options)]()


# ----- from the user's side (issue 8): how people type it, and the edges ---------------------
# Broadcast scalars inside trace, sum and diag; quotients under ./; every spelling of the
# same operator (ASCII and Unicode, Greek words, ^-1 and inv, .* and ⊙); sized constants
# and the output-only forms that are input now (vec, ⊗).

def _user_scalar(sub, draw, v, sq):
    square = draw(st.sampled_from(SQUARE[v * 2]))
    word = draw(st.sampled_from(["alpha", "beta", "α", "β"]))
    return [
        lambda: f"sum(({sub(v)}) ./ (({sub(v)})/(1 + ({sub('s')})²)))",
        lambda: f"sum(({sub(v)}) + {word})",
        lambda: f"tr(({sub(sq)}) + {word} I)",
        lambda: f"sum(diag({sub(sq[0])}) + ({sub(sq)}))",
        lambda: f"sum(({sub(v)}) .* ({sub(v)}) ./ (2 + ({sub(v)}) .* ({sub(v)})))",
        lambda: f"({sub(v)})^T inv({square}) ({sub(v)})",
        lambda: f"({sub(v)})' {square}^-1 ({sub(v)})",
        lambda: f"{word} * ||{sub(v)}||^2",
        lambda: f"vec({sub(v)})ᵀvec({sub(v)})",
        lambda: f"(({sub('s')})/(1 + ({sub('s')})²))/(2 + ({sub('s')})²)",
        lambda: f"1/(1/2 + ({sub('s')})²)^(1/2)",
    ]


def _user_vector(sub, draw, shape):
    word = draw(st.sampled_from(["alpha", "β", "2", "½"]))
    return [
        lambda: f"({sub(shape)}) ./ (({sub(shape)})/(1 + ({sub('s')})²))",
        lambda: f"(({sub(shape)}) ./ (1 + ({sub(shape)}) .* ({sub(shape)})))/(1 + {word}^2)",
        lambda: f"sigma({sub(shape)}) * {word}",
        lambda: f"vec({sub(shape)})",
        lambda: f"diag(({sub(shape)}) + {word})𝟏",
        lambda: f"({sub(shape)}) ⊙ (({sub(shape)}) ./ (2 + ({sub(shape)}) ⊙ ({sub(shape)})))",
    ]


USER_SIDE = {"s": _user_scalar, "v": _user_vector}


SYMBOLS_BY_NAME = ["x", "z", "y", "A", "B", "C", "S", "α", "β"]


@st.composite
def problem(draw, shape: str = "s", depth: int = 3):
    """(expression text, the variable) with the variable occurring in the expression."""
    from matdiff import parse
    from matdiff.core.nodes import symbols_of
    text = draw(expression(shape, depth))
    names = [n for n in SYMBOLS_BY_NAME if n in symbols_of(parse(text, shapes=DECLARATIONS))]
    if not names:
        text = f"({text}) + " + ("α" if shape == "s" else
                                 {"n": "x", "m": "y"}.get(shape, "α " + LEAVES[shape][0]))
        names = ["α"] if shape == "s" else [{"n": "x", "m": "y"}.get(shape, "α")]
    return text, draw(st.sampled_from(names))
