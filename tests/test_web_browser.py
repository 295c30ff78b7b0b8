"""The page in a real headless browser (Debian's chromium driven by Playwright) against a
real `python -m matdiff serve`: typing an expression, changing a shape, the rendered
result, the notes, the check, the code (when the API has it), the LaTeX, the error caret,
the state in the URL, the examples menu, escaping — and no request leaves 127.0.0.1."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import pytest

import matdiff
from playwright.sync_api import sync_playwright

from helpers import same_value
from matdiff import report
from matdiff.identities import load

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("MATDIFF_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "matdiff", "serve", "--port", str(port), "--time-limit", "20"],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        assert process.stdout.readline().strip().startswith(f"matdiff web app: {url}")
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(url + "api/examples", timeout=5)
                break
            except OSError:
                assert process.poll() is None and time.monotonic() < deadline, "no server"
                time.sleep(0.3)
        yield url
    finally:
        process.terminate()
        process.wait(20)


@pytest.fixture(scope="module")
def browser():
    assert shutil.which(CHROMIUM) or Path(CHROMIUM).exists(), f"{CHROMIUM} is missing"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1000, "height": 900})
    page = context.new_page()
    page.requests, page.problems = [], []
    page.on("request", lambda r: page.requests.append(r.url))
    page.on("console", lambda m: m.type in ("error", "warning") and page.problems.append(m.text))
    page.on("pageerror", lambda e: page.problems.append(str(e)))
    page.base = server
    yield page
    hosts = {urlparse(u).hostname for u in page.requests if not u.startswith("data:")}
    context.close()
    assert hosts <= {"127.0.0.1"}, page.requests
    assert not [p for p in page.problems if "Content Security Policy" in p or "Refused" in p], \
        page.problems


def derive(page, expr: str, wrt: str | None = None) -> None:
    """Type an expression (as a person would) and wait for the answer or the error."""
    page.fill("#expr", "")
    page.type("#expr", expr, delay=10)
    wait(page)
    if wrt is not None and page.input_value("#wrt") != wrt:
        before = page.get_attribute("body", "data-ready")
        page.select_option("#wrt", wrt)
        answered(page, before)


def wait(page):
    page.wait_for_timeout(600)   # the page waits 400 ms after the last key
    page.wait_for_selector("#status:empty", state="attached", timeout=30_000)


def answered(page, before=None) -> None:
    """Wait for a new answer (the page numbers them in body[data-ready]).  Selectors, not
    script: the page's Content-Security-Policy forbids evaluating strings."""
    selector = "body[data-ready]" if before is None else f"body:not([data-ready='{before}'])"
    page.wait_for_selector(selector, state="attached", timeout=30_000)


def annotation(page) -> str:
    """The TeX source KaTeX rendered (its MathML annotation)."""
    return page.text_content("#math annotation")


def test_typing_an_expression_renders_the_checked_derivative(page, tmp_path):
    page.goto(page.base)
    derive(page, "aᵀXb", "X")
    assert page.is_visible("#math .katex")
    assert annotation(page) == r"\frac{\partial f}{\partial X} = a b^{\top}"
    assert page.text_content("#convention-line") == "denominator layout: ∂f/∂X has the shape of X"
    check = page.text_content("#check")
    assert check.startswith("check passed: sympy, 6 entries")
    assert page.text_content("#latex") == r"a b^{\top}"
    assert same_value(page.text_content("#text"), "abᵀ")
    shot = tmp_path / "page.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
    if os.environ.get("MATDIFF_SCREENSHOT"):   # refresh docs/screenshot.png on request
        page.screenshot(path=os.environ["MATDIFF_SCREENSHOT"])


def test_changing_a_shape_in_the_table_changes_the_derivative(page):
    page.goto(page.base)
    derive(page, "x'Ax", "x")
    assert annotation(page).endswith(r"\left(A + A^{\top}\right) x")
    rows = page.locator("#symbols tbody tr")
    assert [rows.nth(i).get_attribute("data-symbol") for i in range(rows.count())] == ["x", "A"]
    assert page.text_content("tr[data-symbol=A] td.inferred") == "m×m"
    before = page.get_attribute("body", "data-ready")
    page.select_option("tr[data-symbol=A] select.kind", "symmetric")
    answered(page, before)
    assert page.input_value("#let") == "A: symmetric m"
    assert page.text_content("tr[data-symbol=A] td.inferred") == "m×m (symmetric)"
    assert annotation(page).endswith("= 2 A x")
    assert same_value(page.text_content("#text"), "2Ax", symmetric=["A"])
    assert page.text_content("#check").startswith("check passed")
    # a size typed into the table reaches the declarations, the other shapes and the check
    before = page.get_attribute("body", "data-ready")
    page.fill("tr[data-symbol=A] input.rows", "3")
    page.press("tr[data-symbol=A] input.rows", "Enter")
    answered(page, before)
    assert page.input_value("#let") == "A: symmetric 3"
    assert page.text_content("tr[data-symbol=x] td.inferred") == "vector 3"
    assert page.text_content("#check").startswith("check passed: sympy, 3 entries")


def test_notes_code_and_steps_show_when_the_api_has_them(page):
    page.goto(page.base)
    derive(page, "(x − As)ᵀW(x − As)", "s")
    page.wait_for_timeout(300)
    assert page.is_visible("#code-box") and page.is_visible("#steps-box")
    code = report.code_report("(x − As)ᵀW(x − As)", "s")["code"]
    assert "def f_and_g(" in code and page.text_content("#code") == code
    steps = report.steps_report("(x − As)ᵀW(x − As)", "s")["steps"]
    assert page.locator("#steps li").count() == len(steps) > 0
    notes = page.locator("#notes li")
    data = report.diff_report("(x − As)ᵀW(x − As)", "s")
    assert notes.count() == len(data.get("notes", []))
    assert page.text_content("#convention-line") == data["convention"]
    assert annotation(page).endswith("= " + data["latex"])


def test_an_error_shows_the_caret_under_the_input(page):
    page.goto(page.base)
    derive(page, "aᵀX+b")
    assert page.is_visible("#caret") and not page.is_visible("#answer")
    line, carets = page.text_content("#caret").split("\n")
    assert line == "aᵀX+b" and carets == "^^^^^"
    assert page.text_content("#error-message").startswith("ShapeError: cannot add 'aᵀX' (1×n)")
    derive(page, "aᵀ(Xb")
    line, carets = page.text_content("#caret").split("\n")
    with pytest.raises(matdiff.ParseError) as err:
        matdiff.diff("aᵀ(Xb", "X")
    start, end = err.value.span
    assert line == "aᵀ(Xb" and carets == " " * start + "^" * max(1, end - start)
    # a link to an expression with an error keeps its variable for when it is fixed
    page.goto(page.base + "?expr=a%E1%B5%80X%2Bb&wrt=X")
    page.wait_for_selector("#caret:not([hidden])", state="attached", timeout=30_000)
    assert "wrt=X" in page.url and not page.is_visible("#symbols")
    page.fill("#expr", "aᵀXb")
    page.type("#expr", " + 1", delay=10)
    answered(page)
    assert page.input_value("#wrt") == "X" and page.text_content("#check").startswith("check passed")


def test_the_palette_inserts_at_the_cursor(page):
    page.goto(page.base)
    page.fill("#expr", "x")
    page.click("#palette button[title=transpose]")
    page.type("#expr", "Ax", delay=10)
    assert page.input_value("#expr") == "xᵀAx"
    page.click("#palette button[title='squared norm']")
    assert page.input_value("#expr") == "xᵀAx‖‖²"


def test_the_url_reproduces_a_derivation(page, browser):
    page.goto(page.base)
    derive(page, "log det X", "X")
    page.select_option("#convention", "symmetric")
    page.fill("#let", "X: symmetric")
    page.press("#let", "Enter")
    wait(page)
    answered(page)
    page.wait_for_timeout(800)
    first = annotation(page)
    link = page.url
    assert "convention=symmetric" in link and "expr=log+det+X" in link
    other = browser.new_page()
    other.goto(link)
    answered(other)
    assert other.text_content("#math annotation") == first
    assert other.input_value("#let") == "X: symmetric"
    assert other.text_content("#check").startswith("check passed")
    other.close()


def test_the_examples_menu_is_the_identity_library(page):
    page.goto(page.base)
    page.wait_for_selector("#examples optgroup", state="attached")
    library = load()
    assert page.locator("#examples option").count() == len(library) + 1
    entry = next(e for e in library if e.wrt == "X" and e.kind == "gradient" and not e.layout)
    index = library.index(entry)
    page.select_option("#examples", str(index))
    answered(page)
    assert page.input_value("#expr") == entry.expr
    assert page.text_content("#check").startswith("check passed")
    assert same_value(page.text_content("#text"), entry.result, shapes=entry.let or None)


def test_crafted_input_is_shown_as_text_never_run(page):
    page.goto(page.base)
    derive(page, "<img src=x onerror=document.title='pwned'>")
    assert page.is_visible("#error-message")
    assert page.locator("img").count() == 0 and page.title() != "pwned"
    assert "<img" in page.text_content("#caret")


def test_the_hessian_switch(page):
    page.goto(page.base)
    derive(page, "sum(log(1 + exp(Ax)))", "x")
    before = page.get_attribute("body", "data-ready")
    page.select_option("#mode", "hessian")
    answered(page, before)
    data = report.hessian_report("sum(log(1 + exp(Ax)))", "x")
    assert annotation(page) == r"\nabla^2 f = " + data["latex"]
    assert page.text_content("#convention-line") == data["convention"]
    assert page.text_content("#check").startswith("check passed")
    code = report.code_report("sum(log(1 + exp(Ax)))", "x", hessian=True)["code"]
    assert page.text_content("#code") == code and page.is_visible("#code-box")
    assert not page.is_visible("#steps-box")     # /api/steps derives first derivatives


def test_no_code_beside_a_result_in_the_symmetric_convention(page):
    """The generated code computes the unconstrained gradient: not shown beside another."""
    page.goto(page.base)
    derive(page, "log det X", "X")
    assert page.is_visible("#code-box")
    before = page.get_attribute("body", "data-ready")
    page.select_option("#convention", "symmetric")
    answered(page, before)
    assert not page.is_visible("#code-box") and page.is_visible("#steps-box")


def test_the_copy_button_copies_the_latex(page):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto(page.base)
    derive(page, "tr(XᵀAX)", "X")
    page.click("button[data-copy=latex]")
    page.wait_for_selector("button[data-copy=latex]:has-text('copied')", timeout=10_000)
    assert page.evaluate("() => navigator.clipboard.readText()") == page.text_content("#latex")
    assert same_value(page.text_content("#text"), "(A + Aᵀ)X")
