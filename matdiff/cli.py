"""The command line: a thin layer over the API.

Every MatdiffError ends as one line on stderr (plus the source line with a caret) and
exit status 1; a usage error is argparse's exit 2.  Anything else is a bug and keeps
its traceback.
"""
from __future__ import annotations

import argparse
import json
import sys

EXAMPLES = """\
examples:
  matdiff diff "aᵀXb" --wrt X
  matdiff diff "(x − As)ᵀW(x − As)" --wrt s --let "W: symmetric" --check
  matdiff diff "x'Ax" --wrt x --latex
  matdiff diff "½‖σ(Wx) − y‖²" --wrt W --json
  matdiff diff "log det X" --wrt X --let "X: symmetric" --convention symmetric
  matdiff diff "σ(Wx)" --wrt x                  Jacobian (numerator layout)
  matdiff diff "XᵀX" --wrt X --index            rank 4: Kronecker form and indices
  matdiff hessian "sum(log(1 + exp(Ax)))" --wrt x --check
  matdiff shapes "tr(XᵀAX)"
  matdiff code "½‖σ(Wx) − y‖²" --wrt W > loss.py       NumPy module with check_gradient
  matdiff code "xᵀAx" --wrt x --hessian --backend jax

declarations (--let): 'c: scalar; A: m×n; W: symmetric; x: vector 3; x1, x2: scalar'
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="matdiff", description="Symbolic matrix calculus as lecture notes write it: "
        "verified gradients in textbook form (denominator layout: ∂f/∂X has X's shape).",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version="matdiff 0.1.0")
    sub = parser.add_subparsers(dest="command", metavar="command")

    d = sub.add_parser("diff", help="differentiate an expression (any rank)",
                       epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    d.add_argument("expr", help="the expression, e.g. \"aᵀXb\" or \"a'Xb\"")
    d.add_argument("--wrt", required=True, help="the variable, e.g. X")
    d.add_argument("--convention", choices=("unconstrained", "symmetric"),
                   default="unconstrained", help="gradient by a symmetric matrix: "
                   "unconstrained (default) or each symmetric pair as one parameter")
    _options(d)

    h = sub.add_parser("hessian", help="second derivative of a scalar expression",
                       epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    h.add_argument("expr")
    h.add_argument("--wrt", required=True, help="the first variable, e.g. x")
    h.add_argument("--wrt2", help="a second variable for a mixed derivative ∂²f/∂x∂y")
    _options(h)

    i = sub.add_parser("identities", help="list, check or typeset the identity library",
                       epilog="examples:\n  matdiff identities --filter trace\n"
                       "  matdiff identities --check\n  matdiff identities --latex > "
                       "handout.tex", formatter_class=argparse.RawDescriptionHelpFormatter)
    i.add_argument("--filter", default="", help="keep identities whose id or section "
                   "contains this text")
    i.add_argument("--check", action="store_true", help="derive, compare and verify each")
    out = i.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print JSON")
    out.add_argument("--latex", action="store_true", help="print a LaTeX handout")
    out.add_argument("--markdown", action="store_true", help="print the README table")

    c = sub.add_parser("code", help="print a Python module computing f and its derivatives",
                       epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    c.add_argument("expr")
    c.add_argument("--wrt", required=True, help="the variable, or several separated by commas "
                   "(W,b): one gradient each")
    c.add_argument("--hessian", action="store_true", help="also the Hessian (blocks for "
                   "several variables)")
    c.add_argument("--backend", choices=("numpy", "jax"), default="numpy",
                   help="numpy (default) or jax (jit-compatible jax.numpy)")
    _declarations(c)

    s = sub.add_parser("shapes", help="show the inferred shape of every symbol")
    s.add_argument("expr")
    _declarations(s)
    return parser


def _options(p):
    _declarations(p)
    p.add_argument("--layout", choices=("numerator", "denominator"),
                   help="layout (default: gradients denominator, Jacobians numerator)")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--latex", action="store_true", help="print LaTeX")
    fmt.add_argument("--text", action="store_true", help="print plain text (ASCII)")
    fmt.add_argument("--json", action="store_true", help="print everything as JSON")
    p.add_argument("--standalone", action="store_true",
                   help="with --latex: a complete document that pdflatex compiles")
    p.add_argument("--index", action="store_true", help="also print index notation")
    p.add_argument("--check", action="store_true",
                   help="verify the result numerically and say what was checked")
    p.add_argument("--method", choices=("sympy", "central"), default="sympy",
                   help="the check: elementwise sympy derivatives (default) or central "
                   "differences")
    p.add_argument("--seed", type=int, default=0, help="seed of the check's random point")


def _declarations(p):
    p.add_argument("--let", default="", metavar="DECLS",
                   help="declarations, e.g. 'c: scalar; A: m×n; W: symmetric'")


def main(argv: list[str] | None = None) -> int:
    from .core.errors import MatdiffError
    args = build_parser().parse_args(argv)
    if args.command is None:
        build_parser().print_help()
        return 0
    try:
        return COMMANDS[args.command](args)
    except MatdiffError as e:
        print(f"matdiff: error: {e}", file=sys.stderr)
        return 1


def cmd_diff(args) -> int:
    from .api import diff
    d = diff(args.expr, args.wrt, shapes=args.let, layout=args.layout,
             convention=args.convention)
    return show(d, args)


def cmd_hessian(args) -> int:
    from .api import hessian
    return show(hessian(args.expr, args.wrt, args.wrt2, shapes=args.let, layout=args.layout),
                args)


def show(d, args) -> int:
    """The result, the convention it is printed in, and what was asked for besides."""
    from .language.render import to_latex, to_pretty, to_text
    check = d.verify(method=args.method, seed=args.seed) if args.check else None
    if args.json:
        out = d.to_dict()
        out["check"] = check.to_dict() if check is not None else None
        print(json.dumps(out, ensure_ascii=False, indent=2))
        return 0 if check is None or check.ok else 1
    if args.latex and args.standalone:
        print(standalone(d, check))
        return 0 if check is None or check.ok else 1
    render = to_latex if args.latex else to_text if args.text else to_pretty
    comment = "% " if args.latex else ""
    print(render(d.main_form()))
    print(f"{comment}{d.convention_text()}")
    if d.result is None:
        print(f"{comment}differential: d{_paren(to_pretty(d.expr))} = {to_pretty(d.differential)}")
    if args.index or (d.result is None and d.kron is None):
        print(f"{comment}index notation: {d.index(latex=args.latex)}")
    if check is not None:
        print(check.summary())
    return 0 if check is None or check.ok else 1


def standalone(d, check) -> str:
    """One result as a complete LaTeX document."""
    from .identities import equation, latex_text
    lines = [r"\documentclass{article}", r"\usepackage{amsmath,amssymb}",
             r"\begin{document}", r"\begin{equation*}", equation(d),
             r"\end{equation*}", latex_text(d.convention_text()) + "."]
    if check is not None:
        lines.append(r"\par " + latex_text(check.summary().splitlines()[0]) + ".")
    return "\n".join(lines + [r"\end{document}"])


def cmd_identities(args) -> int:
    from .identities import check_identity, handout, load, markdown_table
    entries = [e for e in load() if args.filter.lower() in (e.id + " " + e.section).lower()]
    if args.latex:
        print(handout(entries))
        return 0
    if args.markdown:
        print(markdown_table(entries))
        return 0
    if not args.check:
        if args.json:
            print(json.dumps([e.__dict__ for e in entries], ensure_ascii=False, indent=2))
        else:
            for e in entries:
                print(f"{e.id:30} {e.section:26} ∂/∂{e.wrt:6} {e.expr}")
        return 0
    outcomes = []
    for n, e in enumerate(entries, 1):
        print(f"\r[{n}/{len(entries)}] {e.id:40}", end="", file=sys.stderr, flush=True)
        outcomes.append(check_identity(e))
    print(file=sys.stderr)
    failed = [o for o in outcomes if not o.passed]
    if args.json:
        print(json.dumps([{"id": o.identity.id, "expression": o.identity.expr,
                           "derived": o.derived, "textbook": o.textbook, "passed": o.passed,
                           "exact": o.exact, "seconds": round(o.seconds, 4)}
                          for o in outcomes], ensure_ascii=False, indent=2))
    else:
        print(f"{'id':30} {'expression':28} {'derived':34} {'textbook':34} {'':4} time")
        for o in outcomes:
            mark = "pass" if o.passed else "FAIL"
            print(f"{o.identity.id:30} {_cut(o.identity.expr, 28)} {_cut(o.derived, 34)} "
                  f"{_cut(o.textbook, 34)} {mark} {o.seconds * 1e3:5.0f}ms")
        total = sum(o.seconds for o in outcomes)
        print(f"{len(outcomes) - len(failed)}/{len(outcomes)} passed, "
              f"{sum(o.exact for o in outcomes)} exactly as printed in the source, "
              f"{total:.1f} s")
    return 1 if failed else 0


def _cut(text: str, width: int) -> str:
    return (text if len(text) <= width else text[:width - 1] + "…").ljust(width)


def _paren(text: str) -> str:
    return text if len(text) == 1 else f"({text})"


def cmd_code(args) -> int:
    from .api import compile
    names = [w.strip() for w in args.wrt.split(",") if w.strip()]
    fn = compile(args.expr, names if len(names) > 1 else args.wrt, hessian=args.hessian,
                 backend=args.backend, shapes=args.let)
    print(fn.source(), end="")
    return 0


def cmd_shapes(args) -> int:
    from .api import _typed
    from .language.render import shape_text, to_pretty
    typed, symbols, _ = _typed(args.expr, args.let, ())
    for name, sym in symbols.items():
        extra = " (symmetric)" if sym.symmetric else ""
        print(f"{to_pretty(sym)}: {shape_text(sym.shape)}{extra}")
    print(f"{to_pretty(typed)}: {shape_text(typed.shape)}")
    return 0


COMMANDS = {"diff": cmd_diff, "hessian": cmd_hessian, "identities": cmd_identities,
            "shapes": cmd_shapes, "code": cmd_code}

if __name__ == "__main__":   # pragma: no cover
    sys.exit(main())
