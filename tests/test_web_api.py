"""The web app's JSON API through Starlette's TestClient, with its real worker pool:
every endpoint answers what the CLI's --json prints, errors are located 4xx JSON, the
limits hold, 50 concurrent requests are answered, and a pathological request hits the
time limit while another request is answered."""
from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from starlette.testclient import TestClient

from matdiff import report
from matdiff.cli import main
from matdiff.identities import load
from matdiff.web.app import CSP, MAX_BODY, create_app, finite
from helpers import same_value

TIME_LIMIT = 6.0
# a real expression whose sympy check needs minutes: the 8×8 symbolic determinant
PATHOLOGICAL = {"expr": "log det X", "wrt": "X", "let": "X: 8×8", "check": True}


@pytest.fixture(scope="module")
def client():
    with TestClient(create_app(pool_size=2, time_limit=TIME_LIMIT)) as c:
        yield c


def cli_json(capsys, *argv) -> dict:
    main(list(argv) + ["--json"])
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("body, argv", [
    ({"expr": "aᵀXb", "wrt": "X", "check": True}, ["diff", "aᵀXb", "--wrt", "X", "--check"]),
    ({"expr": "(x − As)ᵀW(x − As)", "wrt": "s", "let": "W: symmetric", "check": True},
     ["diff", "(x − As)ᵀW(x − As)", "--wrt", "s", "--let", "W: symmetric", "--check"]),
    ({"expr": "σ(Wx)", "wrt": "x", "layout": "denominator"},
     ["diff", "σ(Wx)", "--wrt", "x", "--layout", "denominator"]),
    ({"expr": "log det X", "wrt": "X", "let": "X: symmetric", "convention": "symmetric",
      "check": True, "method": "central", "seed": 3},
     ["diff", "log det X", "--wrt", "X", "--let", "X: symmetric", "--convention", "symmetric",
      "--check", "--method", "central", "--seed", "3"]),
])
def test_diff_answers_what_the_cli_prints(client, capsys, body, argv):
    response = client.post("/api/diff", json=body)
    assert response.status_code == 200
    data = response.json()
    assert data == cli_json(capsys, *argv)
    assert data["check"] is None or data["check"]["passed"]


def test_the_diff_value_is_right(client):
    data = client.post("/api/diff", json={"expr": "xᵀAx", "wrt": "x"}).json()
    assert same_value(data["result"], "(A + Aᵀ)x")
    assert data["check"]["passed"] and data["check"]["method"] == "central"   # the CLI's default


def test_hessian_answers_what_the_cli_prints(client, capsys):
    body = {"expr": "sum(log(1 + exp(Ax)))", "wrt": "x", "check": True}
    data = client.post("/api/hessian", json=body).json()
    assert data == cli_json(capsys, "hessian", body["expr"], "--wrt", "x", "--check")
    assert data["check"]["passed"] and data["kind"] == "jacobian"


def test_shapes_answers_what_the_cli_prints(client, capsys):
    data = client.post("/api/shapes", json={"expr": "x'Ax + tr(W)", "let": "W: symmetric"}).json()
    assert data == cli_json(capsys, "shapes", "x'Ax + tr(W)", "--let", "W: symmetric")
    assert [(s["name"], s["text"], s["symmetric"]) for s in data["symbols"]] == [
        ("x", "vector m", False), ("A", "m×m", False), ("W", "n×n", True)]
    assert data["text"] == "scalar"


def test_an_endpoint_whose_function_is_missing_answers_501(monkeypatch):
    from matdiff.web import endpoints
    monkeypatch.delattr(report, "code_report")
    status, data = endpoints.answer("code", {"expr": "aᵀx", "wrt": "x"})
    assert status == 501
    assert data["message"] == "/api/code is not available in this version of matdiff"


@pytest.mark.parametrize("body, argv", [
    ({"expr": "½‖σ(Wx) − y‖²", "wrt": "W"}, ["code", "½‖σ(Wx) − y‖²", "--wrt", "W"]),
    ({"expr": "xᵀAx", "wrt": "x", "hessian": True, "backend": "jax"},
     ["code", "xᵀAx", "--wrt", "x", "--hessian", "--backend", "jax"]),
    ({"expr": "x'*A*x + b'*x", "wrt": "x,b", "syntax": "matrixcalculus"},
     ["code", "x'*A*x + b'*x", "--wrt", "x,b", "--syntax", "matrixcalculus"]),
])
def test_code_answers_the_module_the_cli_prints(client, capsys, body, argv):
    response = client.post("/api/code", json=body)
    assert response.status_code == 200
    data = response.json()
    main(argv)
    assert data["code"] == capsys.readouterr().out
    assert (data["input"], data["wrt"]) == (body["expr"], body["wrt"])
    assert data["backend"] == body.get("backend", "numpy")


def test_the_code_from_the_api_computes_the_gradient(client, tmp_path):
    import numpy as np
    from helpers import values_for
    from matdiff import diff
    from matdiff.codegen import load
    text = "½‖σ(Wx) − y‖²"
    data = client.post("/api/code", json={"expr": text, "wrt": "W"}).json()
    module = load(data["code"])
    d = diff(text, "W")
    values = values_for(d.expr, seed=11)
    value, gradient = module.f_and_g(**values)
    assert np.allclose(gradient, d.evaluate(values), rtol=1e-9, atol=1e-12)
    assert module.check_gradient(**values) < 1e-6


def test_code_errors_are_typed_json(client):
    response = client.post("/api/code", json={"expr": "Ax", "wrt": "x", "hessian": True})
    assert response.status_code == 400 and response.json()["error"] == "NoRuleError"
    response = client.post("/api/code", json={"expr": "xᵀAx", "wrt": "x", "backend": "c"})
    assert response.status_code == 400 and "unknown backend" in response.json()["message"]
    response = client.post("/api/code", json={"expr": "xᵀAx", "wrt": "x", "hessian": "yes"})
    assert response.status_code == 400 and "true or false" in response.json()["message"]


def test_steps_answers_the_diff_report_with_the_steps_the_cli_prints(client, capsys):
    body = {"expr": "tr(AXB)", "wrt": "X", "layout": "numerator"}
    response = client.post("/api/steps", json=body)
    assert response.status_code == 200
    data = response.json()
    assert data == cli_json(capsys, "diff", "tr(AXB)", "--wrt", "X", "--layout", "numerator",
                            "--steps")
    assert data["check"]["passed"] and same_value(data["result"], "AᵀBᵀ")
    assert data["steps"] and all(isinstance(step, dict) for step in data["steps"])
    plain = client.post("/api/diff", json=body).json()
    assert {k: v for k, v in data.items() if k != "steps"} == plain


def test_unknown_endpoint_is_a_json_404(client):
    response = client.post("/api/integrate", json={"expr": "x"})
    assert response.status_code == 404
    assert "there is no /api/integrate" in response.json()["message"]


def test_a_syntax_error_is_located(client):
    response = client.post("/api/diff", json={"expr": "aᵀ(Xb", "wrt": "X"})
    assert response.status_code == 400
    data = response.json()
    assert data["error"] == "ParseError" and data["line"] == 1
    assert data["source"] == "aᵀ(Xb" and data["span"][0] == data["column"] - 1


def test_a_shape_error_quotes_shapes_and_spans_the_term(client):
    data = client.post("/api/diff", json={"expr": "aᵀX+b", "wrt": "X"}).json()
    assert data["error"] == "ShapeError" and "1×n" in data["message"]
    assert (data["line"], data["column"], data["span"]) == (1, 1, [0, 5])
    assert data["context"].splitlines()[1].strip() == "^^^^^"


@pytest.mark.parametrize("body, words", [
    ({"expr": "aᵀx"}, "needs 'wrt'"),
    ({"expr": "aᵀx", "wrt": "x", "colour": "red"}, "does not know 'colour'"),
    ({"expr": "aᵀx", "wrt": "x", "check": "yes"}, "'check' must be true or false"),
    ({"expr": "aᵀx", "wrt": "x", "seed": 1.5}, "'seed' must be a whole number"),
    ({"expr": ["aᵀx"], "wrt": "x"}, "'expr' must be text"),
    ({"expr": "aᵀx", "wrt": "x", "layout": "sideways"}, "unknown layout"),
    ({"expr": "aᵀx", "wrt": "x", "let": "a 3"}, "a declaration is 'name: shape'"),
    ([1, 2], "must be a JSON object"),
])
def test_bad_requests_are_json_400s(client, body, words):
    response = client.post("/api/diff", json=body)
    assert response.status_code == 400
    assert words in response.json()["message"]


def test_a_body_that_is_not_json(client):
    response = client.post("/api/diff", content=b"expr=aTx&wrt=x")
    assert response.status_code == 400 and "not JSON" in response.json()["message"]


def test_the_request_size_is_limited(client):
    body = {"expr": " + ".join(["aᵀx"] * (MAX_BODY // 4)), "wrt": "x"}
    response = client.post("/api/diff", json=body)
    assert response.status_code == 413 and "larger than" in response.json()["message"]


def test_deep_nesting_is_a_json_error_not_a_crash(client):
    # the sympy check of a 1000-deep chain runs out of Python's stack: the worker says so
    body = {"expr": "sum(" + "tanh(" * 1000 + "x" + ")" * 1000 + ")", "wrt": "x", "check": True}
    response = client.post("/api/diff", json=body)
    assert response.status_code == 400 and "nested too deeply" in response.json()["message"]


def test_a_request_over_the_memory_limit_is_a_json_error(client):
    body = {"expr": "xᵀAx", "wrt": "A", "let": "x: vector 20000", "check": True,
            "method": "central"}          # a 20000×20000 matrix and more: over 1 GiB
    response = client.post("/api/diff", json=body)
    assert response.status_code == 400 and "MiB of memory" in response.json()["message"]
    again = client.post("/api/diff", json={"expr": "xᵀx", "wrt": "x"})
    assert again.status_code == 200 and same_value(again.json()["result"], "2x")


def test_every_response_carries_the_security_headers(client):
    for response in (client.get("/"), client.get("/static/app.js"),
                     client.post("/api/diff", json={"expr": "aᵀx", "wrt": "x"}),
                     client.post("/api/diff", json={"expr": "(", "wrt": "x"})):
        assert response.headers["content-security-policy"] == CSP
        assert response.headers["x-content-type-options"] == "nosniff"
    assert "script-src 'self'" in CSP and "unsafe" not in CSP


def test_the_page_and_its_renderer_are_served_locally(client):
    page = client.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    for path in ("/static/app.js", "/static/style.css", "/static/katex/katex.min.js",
                 "/static/katex/katex.min.css", "/static/katex/fonts/KaTeX_Main-Regular.woff2",
                 "/static/katex/LICENSE"):
        assert client.get(path).status_code == 200, path
    own = page.text + client.get("/static/app.js").text + client.get("/static/style.css").text
    assert "http://" not in own and "https://" not in own and "innerHTML" not in own


def test_examples_come_from_the_identity_library(client):
    data = client.get("/api/examples").json()
    library = load()
    assert [e["id"] for e in data] == [e.id for e in library]
    assert all(e["expr"] and e["wrt"] for e in data)


def test_fifty_concurrent_requests_are_all_answered_right(client):
    def ask(i):
        return i, client.post("/api/diff", json={"expr": f"{i + 2}aᵀx", "wrt": "x"})
    with ThreadPoolExecutor(50) as pool:
        answers = list(pool.map(ask, range(50)))
    for i, response in answers:
        assert response.status_code == 200
        assert same_value(response.json()["result"], f"{i + 2}a")


def test_a_pathological_request_hits_the_limit_while_others_are_answered(client):
    pool = client.app.state.pool
    before, replaced = pool.pids(), pool.replaced
    slow = {}

    def pathological():
        start = time.monotonic()
        slow["response"] = client.post("/api/diff", json=PATHOLOGICAL)
        slow["seconds"] = time.monotonic() - start
    thread = threading.Thread(target=pathological)
    thread.start()
    time.sleep(0.5)
    start = time.monotonic()
    quick = client.post("/api/diff", json={"expr": "aᵀXb", "wrt": "X", "check": True})
    quick_seconds = time.monotonic() - start
    thread.join(60)
    assert quick.status_code == 200 and quick.json()["check"]["passed"]
    assert quick_seconds < TIME_LIMIT            # answered while the other one was stuck
    response = slow["response"]
    assert response.status_code == 422
    assert response.json()["error"] == "TimeLimitError"
    assert TIME_LIMIT <= slow["seconds"] < TIME_LIMIT + 5
    assert pool.replaced == replaced + 1
    deadline = time.monotonic() + 60             # the replacement worker comes up
    while len(pool.pids()) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert len(pool.pids()) == 2 and pool.pids() != before
    again = client.post("/api/diff", json={"expr": "xᵀx", "wrt": "x"})
    assert again.status_code == 200 and same_value(again.json()["result"], "2x")


def test_a_loopback_server_answers_loopback_names_only():
    app = create_app(hosts=["127.0.0.1", "localhost"])   # what `matdiff serve` sets
    local = TestClient(app, base_url="http://127.0.0.1:8765")
    assert local.get("/").status_code == 200
    assert local.get("/", headers={"host": "localhost:8765"}).status_code == 200
    rebound = local.get("/", headers={"host": "attacker.example"})   # DNS rebinding
    assert rebound.status_code == 400


def test_numbers_json_cannot_carry_become_null():
    answer = {"check": {"max_error": float("nan"), "sizes": {"n": 2}},
              "values": [1.5, float("inf")]}
    assert finite(answer) == {"check": {"max_error": None, "sizes": {"n": 2}},
                              "values": [1.5, None]}
    json.dumps(finite(answer), allow_nan=False)
