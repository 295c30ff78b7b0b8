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


FILES = ("gradients", "derivatives")


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
    from .evaluate import evaluate
    from .nodes import symbols_of
    from .render import to_pretty
    from .verifier import _user, choose_sizes, random_point

    start = time.perf_counter()
    d = entry.derive()
    form = d.main_form()
    textbook = parse_like(entry.result, d.symbols) if entry.kind != "tensor" and \
        d.result is not None and d.kron is None or entry.kind in ("gradient", "jacobian") \
        or (entry.kind == "hessian" and d.result is not None) else None
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
        f_size = int(np.prod(tensor.shape[:tensor.ndim - len(_np(d.wrt.shape))]))
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


def _np(shape):
    return shape[:1] if len(shape) == 2 and shape[1] == 1 else shape
