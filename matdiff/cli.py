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
  matdiff diff "tr(AXB)" --wrt X --steps --latex   the derivation as an align* block
  matdiff diff "XᵀX" --wrt X --index            rank 4: Kronecker form and indices
  matdiff hessian "sum(log(1 + exp(Ax)))" --wrt x --check
  matdiff hessian "x1²x2 + x1x2³" --wrt x1,x2 --let "x1, x2: scalar"   block Hessian
  matdiff shapes "tr(XᵀAX)"
  matdiff diff "\\frac{1}{2}\\|\\hat{y} - y\\|_2^2" --wrt "\\hat{y}"   LaTeX input
  matdiff diff "y = Wx; L = gᵀy" --wrt x --at "W=[[1,2,3],[4,5,6]]; x=[9,10,11]; g=[7,8]"
  matdiff diff -f notes.txt --wrt W_1          a program of definitions from a file
  matdiff eval "Wx" --at "W=[[1,2,3],[4,5,6]]; x=[9,10,11]"
  matdiff code "½‖σ(Wx) − y‖²" --wrt W > loss.py       NumPy module with check_gradient
  matdiff code "xᵀAx" --wrt x --hessian --backend jax

declarations (--let): 'c: scalar; A: m×n; W: symmetric; x: vector 3; x1, x2: scalar'
"""


BACKPROP_EXAMPLES = """\
examples:
  matdiff backprop "h = σ(W₁x + b₁); ŷ = W₂h + b₂; L = ½‖ŷ − y‖²"
  matdiff backprop -f net.txt --wrt W1,W2 --latex --standalone
  matdiff backprop "Y = WX + b" --upstream G      a layer's rule (∂L/∂W = GXᵀ, …)
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
    d.add_argument("expr", nargs="?", help="the expression or program, e.g. \"aᵀXb\", "
                   "\"a'Xb\", \"x^\\top A x\" (LaTeX), \"y = Wx; L = gᵀy\"; '-' reads "
                   "standard input")
    d.add_argument("--wrt", required=True, action="append",
                   help="the variable, e.g. X; several (x1,x2 or --wrt x1 --wrt x2) stack "
                   "the gradient")
    d.add_argument("--convention", choices=("unconstrained", "symmetric"),
                   default="unconstrained", help="gradient by a symmetric matrix: "
                   "unconstrained (default) or each symmetric pair as one parameter")
    _options(d)

    h = sub.add_parser("hessian", help="second derivative of a scalar expression",
                       epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    h.add_argument("expr", nargs="?", help="the expression or program ('-': standard input)")
    h.add_argument("--wrt", required=True, action="append",
                   help="the first variable, e.g. x; several (x1,x2) give the block Hessian")
    h.add_argument("--wrt2", help="a second variable for a mixed derivative ∂²f/∂x∂y")
    _options(h)

    t = sub.add_parser("taylor", help="Taylor polynomial of a scalar expression (MML 5.148)",
                       epilog="examples:\n  matdiff taylor \"sum(log(1 + exp(Ax)))\" --wrt x\n"
                       "  matdiff taylor \"exp(x)sin(x)\" --wrt x --let \"x: scalar\" --order 3"
                       " --latex", formatter_class=argparse.RawDescriptionHelpFormatter)
    t.add_argument("expr")
    t.add_argument("--wrt", required=True, help="the variable, e.g. x")
    t.add_argument("--at", default="x0", help="the expansion point, a new symbol shaped like "
                   "the variable (default x0)")
    t.add_argument("--order", type=int, default=2, help="the order (default 2)")
    _declarations(t)
    _formats(t, standalone=False)

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

    e = sub.add_parser("eval", help="the value of an expression (or program) at given values",
                       epilog="example:\n  matdiff eval \"Wx\" --at \"W=[[1,2,3],[4,5,6]]; "
                       "x=[9,10,11]\"", formatter_class=argparse.RawDescriptionHelpFormatter)
    e.add_argument("expr", nargs="?", help="the expression or program ('-': standard input)")
    e.add_argument("--at", required=True, metavar="VALUES",
                   help="values, e.g. 'W=[[1,2],[3,4]]; x=[1,2]; c=0.5'")
    _program(e)
    _declarations(e)
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

    b = sub.add_parser("backprop", help="every gradient of a program at once (reverse "
                       "mode, δ by δ), or a layer's rule with --upstream",
                       epilog=BACKPROP_EXAMPLES,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    b.add_argument("expr", nargs="?", help="the program, e.g. \"h = σ(W₁x + b₁); ŷ = W₂h + "
                   "b₂; L = ½‖ŷ − y‖²\" ('-': standard input)")
    b.add_argument("--wrt", metavar="NAMES", help="the parameters, e.g. W1,b1,W2,b2 "
                   "(default: every free matrix or vector that is not data)")
    b.add_argument("--data", metavar="NAMES", help="the data (not differentiated), e.g. "
                   "x,y (default: scalars and names whose letter is x, X, y, Y, t, T)")
    b.add_argument("--upstream", metavar="G", help="a layer rule: the gradient of tr(GᵀY) "
                   "by every input of the definition Y = …, G = ∂L/∂Y")
    _program(b)
    _declarations(b)
    _formats(b, latex="print an align* block")
    b.add_argument("--no-check", action="store_true", help="do not check the gradients")
    b.add_argument("--seed", type=int, default=0, help="seed of the check's random point")

    s = sub.add_parser("shapes", help="show the inferred shape of every symbol")
    s.add_argument("expr")
    _declarations(s)
    s.add_argument("--json", action="store_true", help="print JSON")

    w = sub.add_parser("serve", help="the web app on a local port (needs matdiff[web])",
                       epilog="example:\n  matdiff serve            then open "
                       "http://127.0.0.1:8765/", formatter_class=argparse.RawDescriptionHelpFormatter)
    w.add_argument("--host", default="127.0.0.1",
                   help="address to bind (default 127.0.0.1: this machine only)")
    w.add_argument("--port", type=int, default=8765, help="port (default 8765)")
    w.add_argument("--workers", type=int, default=1,
                   help="server processes (each with its own pool of derivation workers)")
    w.add_argument("--pool", type=int, default=2,
                   help="derivation worker processes per server process (default 2)")
    w.add_argument("--time-limit", type=float, default=10.0,
                   help="seconds a request may take before its worker is replaced (default 10)")
    w.add_argument("--memory", type=int, default=1024, metavar="MIB",
                   help="memory (address space) each derivation worker may use (default 1024)")
    return parser


def _program(p):
    p.add_argument("-f", "--file", metavar="FILE", help="read the expression or program "
                   "from a file ('-': standard input)")
    p.add_argument("--of", metavar="NAME", help="in a program: the statement to use "
                   "(default: the last)")


def _formats(p, latex: str = "print LaTeX", standalone: bool = True):
    """--latex | --text | --json, and --standalone for a document pdflatex compiles."""
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--latex", action="store_true", help=latex)
    fmt.add_argument("--text", action="store_true", help="print plain text (ASCII)")
    fmt.add_argument("--json", action="store_true", help="print everything as JSON")
    if standalone:
        p.add_argument("--standalone", action="store_true",
                       help="with --latex: a complete document that pdflatex compiles")


def _options(p):
    _declarations(p)
    _program(p)
    p.add_argument("--at", metavar="VALUES", help="also print the derivative's value at "
                   "these values, e.g. 'W=[[1,2],[3,4]]; x=[1,2]'")
    p.add_argument("--layout", choices=("numerator", "denominator"),
                   help="layout (default: gradients denominator, Jacobians numerator)")
    _formats(p)
    p.add_argument("--index", action="store_true", help="also print index notation")
    p.add_argument("--index-letters", metavar="LETTERS", default="ijkl",
                   help="index letters for --index, e.g. 'pq' (default ijkl)")
    p.add_argument("--expand", action="store_true", help="multiply out a scalar polynomial "
                   "result (MML 5.7: 2x₁x₂ + x₂³)")
    p.add_argument("--bold", action="store_true", help="with --latex: vectors and matrices "
                   "in bold (\\boldsymbol{x}), as MML prints them")
    p.add_argument("--steps", action="store_true", help="print the derivation step by step "
                   "(with --latex an align* block; with --standalone a document)")
    check = p.add_mutually_exclusive_group()
    check.add_argument("--check", action="store_true",
                       help="the thorough check: the printed result read back and compared "
                       "with elementwise sympy derivatives (default: a fast check by "
                       "central differences)")
    check.add_argument("--no-check", action="store_true",
                       help="do not check the result")
    p.add_argument("--method", choices=("sympy", "central"), default=None,
                   help="the check's oracle: elementwise sympy derivatives (--check) or "
                   "central differences (the default check)")
    p.add_argument("--seed", type=int, default=0, help="seed of the check's random point")


def _declarations(p):
    p.add_argument("--let", default="", metavar="DECLS",
                   help="declarations, e.g. 'c: scalar; A: m×n; W: symmetric'")
    p.add_argument("--syntax", choices=("matdiff", "matrixcalculus", "sympy"),
                   default="matdiff", help="the input's dialect: matdiff (notes: AB = A·B, "
                   "default), matrixcalculus (matrixcalculus.org) or sympy (SymPy's printing)")


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


def one_variable(args) -> str:
    """--wrt x1,x2 or --wrt x1 --wrt x2: the variables, comma-separated (several stack the
    gradient or give the block Hessian)."""
    return ",".join(args.wrt)


def source(args) -> str:
    """The expression or program: the argument, a file (-f), or standard input ('-')."""
    from .core.errors import MatdiffError
    if args.file is not None and args.expr is not None:
        raise MatdiffError("give the expression or -f FILE, not both")
    if args.file is None and args.expr is None:
        raise MatdiffError("no expression: give one, '-' for standard input, or -f FILE")
    path = args.file if args.file is not None else args.expr
    if path == "-":
        return sys.stdin.read()
    if args.file is None:
        return args.expr
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except OSError as e:
        raise MatdiffError(f"cannot read {path}: {e.strerror}") from None


def cmd_diff(args) -> int:
    from .api import diff
    d = diff(source(args), one_variable(args), shapes=args.let, layout=args.layout,
             convention=args.convention, syntax=args.syntax, of=args.of, expand=args.expand)
    return show(d, args)


def cmd_hessian(args) -> int:
    from .api import hessian
    text = source(args)
    if args.of is not None:
        from .core.errors import MatdiffError
        raise MatdiffError("--of is for diff and eval; a Hessian uses the last statement")
    return show(hessian(text, one_variable(args), args.wrt2, shapes=args.let, layout=args.layout,
                        syntax=args.syntax, expand=args.expand), args)


def print_notes(notes) -> None:
    """Every guess that decided the meaning, one 'note: …' line each on stderr."""
    for note in notes:
        print(f"note: {note}", file=sys.stderr)


def cmd_eval(args) -> int:
    from .report import eval_report
    out = eval_report(source(args), args.at, let=args.let, of=args.of)
    print(json.dumps(out, ensure_ascii=False, indent=2) if getattr(args, "json", False) else out["text"])
    return 0


def show(d, args) -> int:
    """The result, what was asked for besides, then the notes (on stderr)."""
    code = show_result(d, args)
    print_notes(d.notes)
    return code


def show_result(d, args) -> int:
    """The result, the convention it is printed in, and what was asked for besides."""
    from .language.render import to_latex, to_pretty, to_text
    from .core.errors import MatdiffError, VerificationError
    method = args.method or ("sympy" if args.check else "central")
    check, skipped, failed = None, None, None
    if not args.no_check:
        try:
            check = d.verify(method=method, seed=args.seed)
        except VerificationError as e:   # the printed form does not even read back
            failed = f"check FAILED: {e.message}"
        except MatdiffError as e:   # e.g. no point of the domain found: say so, never hide
            skipped = f"check not done: {e.message}"
    status = 1 if failed or (check is not None and not check.ok) else 0
    if args.json:
        from .report import report
        out = report(d, check, at=args.at)
        if failed:
            out["check"] = {"passed": False, "error": failed}
        if args.steps:
            from .calculus.steps import step_dicts
            out["steps"] = step_dicts(d.steps())
        print(json.dumps(out, ensure_ascii=False, indent=2))
        return status
    if args.latex and args.standalone:
        print(standalone(d, check, args.steps, args.bold))
        if failed:
            print(failed, file=sys.stderr)
        return status
    comment = "% " if args.latex else ""
    if args.steps:
        if args.text:
            from .calculus.steps import text_lines
            print("\n".join(text_lines(d.steps(), ascii=True)))
        else:
            print(d.steps_text(latex=args.latex, bold=args.bold))
        print(f"{comment}{d.convention_text()}")
        print_check(check, failed, skipped)
        return status
    if not hasattr(d, "main_form"):   # several variables: a Stacked result
        print(d.latex(bold=args.bold) if args.latex else d.text() if args.text else d.pretty())
        print(f"{comment}{d.convention_text()}")
        print_check(check, failed, skipped)
        return status
    if args.latex:
        print(to_latex(d.main_form(), names=d.symbols, known_shape=True, bold=args.bold))
    else:
        render = to_text if args.text else to_pretty
        print(render(d.main_form(), names=d.symbols, known_shape=True))
    print(f"{comment}{d.convention_text()}")
    if d.result is None:
        print(f"{comment}differential: d{_paren(to_pretty(d.expr))} = {to_pretty(d.differential)}")
    if args.index or args.index_letters != "ijkl" or (d.result is None and d.kron is None):
        print(f"{comment}index notation: {d.index(latex=args.latex, letters=args.index_letters)}")
    for note in (d.program.notes if d.program is not None else ()):
        print(f"{comment}note: {note}")
    if args.at is not None:
        from .api import values_from_text
        from .report import number_text
        print(f"{comment}value: {number_text(d.evaluate(values_from_text(args.at)))}")
    print_check(check, failed, skipped, comment)
    return status


def print_check(check, failed, skipped, comment: str = "") -> None:
    """The one line saying what was checked (or that the check failed, or could not run)."""
    if check is not None:
        print("\n".join(comment + line for line in check.summary().splitlines()))
    if failed:
        print(comment + failed)
    if skipped:
        print(skipped, file=sys.stderr)


def standalone(d, check, steps: bool = False, bold: bool = False) -> str:
    """One result (or its derivation) as a complete LaTeX document."""
    from .identities import latex_text
    body = [d.steps_text(latex=True, bold=bold)] if steps else \
        [r"\begin{equation*}", d.equation(bold), r"\end{equation*}"]
    lines = [r"\documentclass{article}", r"\usepackage{amsmath,amssymb}",
             r"\begin{document}", *body, latex_text(d.convention_text()) + "."]
    if check is not None:
        lines.append(r"\par " + latex_text(check.summary().splitlines()[0]) + ".")
    return "\n".join(lines + [r"\end{document}"])


def cmd_taylor(args) -> int:
    from .api import taylor
    t = taylor(args.expr, args.wrt, args.at, args.order, shapes=args.let)
    if args.json:
        print(json.dumps(t.to_dict(), ensure_ascii=False, indent=2))
    else:
        print(t.equation() if args.latex else t.text() if args.text else t.pretty())
    return 0


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


def cmd_backprop(args) -> int:
    """The reverse pass (or a layer rule), each gradient checked against central
    differences of the program and against diff."""
    from .api import gradients, vjp
    from .core.errors import MatdiffError, VerificationError
    text = source(args)
    if args.upstream is not None:
        if args.of is not None or args.data is not None:
            raise MatdiffError("--upstream gives a layer rule of the last definition: "
                               "--of and --data do not apply")
        g = vjp(text, args.upstream, args.wrt, shapes=args.let)
    else:
        g = gradients(text, args.wrt, data=args.data, of=args.of, shapes=args.let)
    report, failed = None, None
    if not args.no_check:
        try:
            report = g.verify(seed=args.seed)
        except VerificationError as e:
            failed = f"check FAILED: {e.message}"
    comment = "% " if args.latex else ""
    summary = None if report is None else (
        f"check: every gradient matches central differences (max error "
        f"{max((r[1] for r in report), default=0):.1e}) and diff (max error "
        f"{max((r[2] for r in report), default=0):.1e}), seed {args.seed}")
    if args.json:
        out = g.to_dict()
        out["check"] = {"passed": not failed, "summary": summary or failed}
        print(json.dumps(out, ensure_ascii=False, indent=2))
    elif args.latex and args.standalone:
        print("\n".join([r"\documentclass{article}", r"\usepackage{amsmath,amssymb}",
                         r"\begin{document}", g.latex(), r"\end{document}"]))
    else:
        print(g.latex() if args.latex else g.text() if args.text else g.pretty())
        for line in (summary, failed):
            if line:
                print(comment + line)
    print_notes(g.notes)
    return 1 if failed else 0


def cmd_code(args) -> int:
    from .report import code_report
    print(code_report(args.expr, args.wrt, let=args.let, hessian=args.hessian,
                      backend=args.backend, syntax=args.syntax)["code"], end="")
    return 0


def cmd_shapes(args) -> int:
    from .api import _typed, is_program, parse_program
    from .core.nodes import Symbol
    from .language.render import shape_text, to_pretty
    if args.json:
        from .report import shapes_report
        print(json.dumps(shapes_report(args.expr, let=args.let, syntax=args.syntax),
                         ensure_ascii=False, indent=2))
        return 0
    if is_program(args.expr):
        program = parse_program(args.expr, args.let)
        for name, shape in program.shapes.items():
            kind = "defined" if name in program.names else "symbol"
            print(f"{to_pretty(Symbol(name))}: {shape_text(shape)} ({kind})")
        return 0
    typed, symbols, _ = _typed(args.expr, args.let, (), syntax=args.syntax)
    for name, sym in symbols.items():
        extra = " (symmetric)" if sym.symmetric else " (probability)" if sym.probability else ""
        print(f"{to_pretty(sym)}: {shape_text(sym.shape)}{extra}")
    print(f"{to_pretty(typed)}: {shape_text(typed.shape)}")
    print_notes(typed.notes)
    return 0


def cmd_serve(args) -> int:
    """Start the web app (uvicorn); the derivations run in a pool of worker processes."""
    from .core.errors import MatdiffError
    try:
        from .web.serve import serve
    except ImportError as e:
        raise MatdiffError(f"the web app needs its extra: pip install 'matdiff[web]' ({e})")
    return serve(host=args.host, port=args.port, workers=args.workers, pool=args.pool,
                 time_limit=args.time_limit, memory_mb=args.memory)


COMMANDS = {"diff": cmd_diff, "hessian": cmd_hessian, "identities": cmd_identities,
            "shapes": cmd_shapes, "eval": cmd_eval, "serve": cmd_serve, "taylor": cmd_taylor,
            "code": cmd_code, "backprop": cmd_backprop}

if __name__ == "__main__":   # pragma: no cover
    sys.exit(main())
