"""Printed size against the textbook form — run with:  python benchmarks/textbook.py

Over every entry of the identity library (identities/*.toml, its textbook result as the
source prints it) plus the ML losses of issue 10 item 6, it derives each from the
expression alone and reports: how many print exactly as the book does (spaces ignored),
and the ratio of printed lengths (derived / textbook), median and worst.  Every derived
form is also checked against the textbook's by value (the library's own check), so a
"match" is never a different answer printed alike.
"""
from __future__ import annotations

import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import matdiff  # noqa: E402
from matdiff.identities import check_identity, load  # noqa: E402

LOSSES = [   # (expression, variable, declarations, the textbook form)
    ("−yᵀlog(softmax(Wx))", "W", None, "((𝟏ᵀy)softmax(Wx) − y)xᵀ"),
    ("−yᵀlog(softmax(Wx))", "W", "y: probability", "(softmax(Wx) − y)xᵀ"),
    ("−yᵀlog(σ(Xw)) − (1 − y)ᵀlog(1 − σ(Xw))", "w", None, "Xᵀ(σ(Xw) − y)"),
    ("log(exp(x) + 1)", "x", "x: scalar", "σ(x)"),
    ("log(1 + exp(aᵀx))", "x", None, "σ(aᵀx)a"),
    ("1/(1 + exp(−x))", "x", "x: scalar", "σ(x)(1 − σ(x))"),
    ("log det(XᵀX)", "X", None, "2X(XᵀX)⁻¹"),
    ("xᵀAx", "x", None, "(A + Aᵀ)x"),
    ("x1²x2 + x1x2³", "x1", "x1, x2: scalar", "2x₁x₂ + x₂³"),
]
HESSIANS = [("log(1 + exp(aᵀx))", "x", None, "σ(aᵀx)(1 − σ(aᵀx))aaᵀ")]


def _bare(text: str) -> str:
    return text.replace(" ", "")


def main() -> None:
    rows = []
    for entry in load():
        o = check_identity(entry)
        rows.append((entry.id, o.derived, o.textbook, o.same_value and bool(o.check)))
    for expr, wrt, decl, book in LOSSES:
        d = matdiff.diff(expr, wrt, shapes=decl, expand=wrt == "x1")
        ok = bool(d.verify(sizes={"m": 4, "n": 2})) and \
            bool(matdiff.verify(expr, wrt, book, shapes=decl, sizes={"m": 4, "n": 2}))
        rows.append((f"loss: {expr} by {wrt}", d.pretty(), book, ok))
    for expr, wrt, decl, book in HESSIANS:
        h = matdiff.hessian(expr, wrt, shapes=decl)
        rows.append((f"hessian: {expr}", h.pretty(), book, bool(h.verify())))
    exact = [r for r in rows if _bare(r[1]) == _bare(r[2])]
    ratios = [len(_bare(r[1])) / len(_bare(r[2])) for r in rows]
    wrong = [r for r in rows if not r[3]]
    print(f"{len(rows)} forms: {len(exact)} print exactly as the textbook "
          f"({len(exact) / len(rows):.0%}); printed length / textbook length: median "
          f"{statistics.median(ratios):.2f}, mean {statistics.mean(ratios):.2f}, "
          f"worst {max(ratios):.2f}; {len(wrong)} not verified")
    print("\nlongest relative to the book:")
    for r, q in sorted(zip(rows, ratios), key=lambda p: -p[1])[:8]:
        print(f"  {q:4.2f}  {r[0]:40.40}  {r[1]:42.42}  book: {r[2]}")


if __name__ == "__main__":
    main()
