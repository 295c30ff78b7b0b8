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


def load(name: str = "gradients") -> list[Identity]:
    path = identities_dir() / f"{name}.toml"
    with open(path, "rb") as f:
        data = tomllib.load(f)
    return [Identity(**entry) for entry in data["identity"]]


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
    """Derive from the expression alone; compare with the textbook result three ways."""
    import numpy as np

    from .api import diff, parse_like
    from .evaluate import evaluate
    from .nodes import symbols_of
    from .render import to_pretty
    from .verifier import _user, choose_sizes, random_point

    start = time.perf_counter()
    d = diff(entry.expr, entry.wrt, shapes=entry.let)
    textbook = parse_like(entry.result, d.symbols)
    sizes = choose_sizes([d.expr, d.result, textbook], d.wrt, start=3)
    symbols = {**d.symbols, **symbols_of(textbook)}
    point = random_point(symbols, sizes, seed)
    values = {n: _user(v, symbols[n].shape) for n, v in point.items()}
    ours = np.asarray(evaluate(d.result, values, sizes, symbols), dtype=float)
    theirs = np.asarray(evaluate(textbook, values, sizes, symbols), dtype=float)
    same = ours.shape == theirs.shape and bool(np.allclose(ours, theirs, rtol=1e-9, atol=1e-11))
    derived, printed = d.pretty(), to_pretty(textbook)
    check = d.verify(seed=seed)
    return Outcome(entry, derived, printed, same, derived == printed,
                   printed_size(derived) <= printed_size(printed), check,
                   time.perf_counter() - start)
