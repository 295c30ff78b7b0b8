"""Generated NumPy and JAX code (issue 11): every output agrees with `evaluate` (the
Derivative's own value) and with central differences (the emitted check_gradient), for
every identity of the library and a sample of the fuzzer's expressions; the emitted code
follows the performance rules; bad input ends in typed errors."""
import importlib.util
import subprocess
import sys

import jax
import numpy as np
import pytest
from fuzzing import DECLARATIONS, fuzz_settings, problem
from helpers import values_for
from hypothesis import given
from hypothesis import strategies as st

import matdiff
from matdiff.codegen import emit
from matdiff.codegen import numpy as numpy_backend
from matdiff.core.nodes import Trace
from matdiff.identities import load

jax.config.update("jax_enable_x64", True)

BACKENDS = ("numpy", "jax")
ENTRIES = [e for e in load() if e.convention == "unconstrained"]


def close(got, want):
    got, want = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
    return got.shape == want.shape and np.allclose(got, want, rtol=1e-7, atol=1e-9)


def load_source(text, tmp_path, name="generated"):
    """Import an emitted module the way a user would: from a file."""
    path = tmp_path / f"{name}.py"
    path.write_text(text, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(name + str(abs(hash(text))), path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def reference(entry):
    """The same derivative in the default layout (compile always uses it)."""
    if entry.kind == "hessian":
        return matdiff.hessian(entry.expr, entry.wrt, entry.wrt2 or None, shapes=entry.let)
    return matdiff.diff(entry.expr, entry.wrt, shapes=entry.let)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("entry", ENTRIES, ids=[e.id for e in ENTRIES])
def test_identity_compiles_to_the_value_of_evaluate(entry, backend):
    d = reference(entry)
    hessian = entry.kind == "hessian"
    f = d.f if hessian else d.expr
    values = values_for(f, seed=3)
    if hessian and entry.wrt2:
        fn = matdiff.compile(entry.expr, [entry.wrt, entry.wrt2], hessian=True,
                             shapes=entry.let, backend=backend)
        value, _, blocks = fn(**values)
        got = blocks[0][1]
    else:
        fn = matdiff.compile(entry.expr, entry.wrt, hessian=hessian, shapes=entry.let,
                             backend=backend)
        out = fn(**values)
        value, got = out[0], out[-1]
    assert close(value, matdiff.check.evaluate.to_user(
        matdiff.check.evaluate.evaluate(f, values), f.shape))
    assert close(got, d.evaluate(values))


def _hessian_or_none(entry):
    try:
        return matdiff.hessian(entry.expr, entry.wrt, shapes=entry.let)
    except matdiff.MatdiffError:
        return None


GRADIENT_ENTRIES = [e for e in ENTRIES if e.kind != "hessian"]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("entry", GRADIENT_ENTRIES[1::5], ids=lambda e: e.id)
def test_hessians_of_the_gradient_identities_compile_to_the_value_of_evaluate(entry, backend):
    """Every fifth gradient identity whose Hessian matdiff derives (by vectors and by
    matrices): the compiled Hessian equals Hessian.evaluate."""
    h = _hessian_or_none(entry)
    if h is None:
        with pytest.raises(matdiff.MatdiffError):
            matdiff.compile(entry.expr, entry.wrt, shapes=entry.let, hessian=True,
                            backend=backend)
        return
    values = values_for(h.f, seed=5)
    fn = matdiff.compile(entry.expr, entry.wrt, shapes=entry.let, hessian=True,
                         backend=backend)
    _, _, hessian = fn(**values)
    assert close(hessian, h.evaluate(values))


@pytest.mark.parametrize("entry", [e for e in ENTRIES if e.kind != "hessian"][::3],
                         ids=lambda e: e.id)
def test_emitted_check_gradient_agrees_with_central_differences(entry, tmp_path):
    d = reference(entry)
    module = load_source(d.to_code(), tmp_path)
    values = values_for(d.expr, seed=4)
    assert module.check_gradient(**values) < 1e-6


@pytest.mark.parametrize("text,wrt", [("xᵀAx", "x"), ("‖Ax − b‖²", "x"),
                                      ("sum(log(1 + exp(Ax)))", "x"), ("log det X", "X")])
def test_hessian_modules_run_on_both_backends(text, wrt, tmp_path):
    h = matdiff.hessian(text, wrt)
    values = values_for(h.f, seed=5)
    for backend in BACKENDS:
        module = load_source(h.to_code(backend), tmp_path, backend)
        value, gradient, hessian = module.f_and_g(**values)
        assert close(hessian, h.evaluate(values))
        assert close(gradient, matdiff.diff(text, wrt).evaluate(values))
        assert module.check_gradient(**values) < 1e-6


@fuzz_settings(0.15)
@given(problem("s"), st.data())
def test_fuzzed_gradients_compile_correctly(case, data):
    text, wrt = case
    d = matdiff.diff(text, wrt, shapes=DECLARATIONS)
    values = values_for(d.expr, seed=6)
    backend = data.draw(st.sampled_from(BACKENDS))
    fn = matdiff.compile(text, wrt, shapes=DECLARATIONS, backend=backend)
    value, gradient = fn(**values)
    assert close(gradient, d.evaluate(values))
    module = matdiff.codegen.load(fn.source())
    assert module.check_gradient(**values) < 1e-5


@fuzz_settings(0.1)
@given(problem("s"), st.sampled_from(BACKENDS))
def test_fuzzed_hessians_compile_correctly(case, backend):
    text, wrt = case
    h = matdiff.hessian(text, wrt, shapes=DECLARATIONS)
    values = values_for(h.f, seed=2)
    _, _, hessian = matdiff.compile(text, wrt, hessian=True, shapes=DECLARATIONS,
                                    backend=backend)(**values)
    assert close(hessian, h.evaluate(values))


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_inverse_applied_from_the_right_is_a_solve_in_the_right_order(backend):
    """Regression (found by fuzzing): B S⁻ᵀ was emitted as solve(B, Sᵀ)."""
    text = "(1 + Aᵀy)ᵀS⁻¹z"
    values = values_for(matdiff.parse(text, shapes=DECLARATIONS), seed=2)
    fn = matdiff.compile(text, "A", shapes=DECLARATIONS, backend=backend)
    _, gradient = fn(**values)
    assert "solve(" in fn.source({"m": 3, "n": 4})
    assert close(gradient, matdiff.diff(text, "A", shapes=DECLARATIONS).evaluate(values))


@fuzz_settings(0.1)
@given(problem("n"))
def test_fuzzed_jacobians_compile_correctly(case):
    text, wrt = case
    d = matdiff.diff(text, wrt, shapes=DECLARATIONS)
    values = values_for(d.expr, seed=7)
    _, jacobian = matdiff.compile(text, wrt, shapes=DECLARATIONS)(**values)
    assert close(jacobian, d.evaluate(values))


def test_several_variables_give_a_gradient_tuple_and_hessian_blocks():
    text = "½‖σ(Wx + b) − y‖²"
    fn = matdiff.compile(text, ["W", "b"], hessian=True)
    values = values_for(matdiff.parse(text), seed=8)
    value, (gW, gb), ((hWW, hWb), (hbW, hbb)) = fn(**values)
    assert close(gW, matdiff.diff(text, "W").evaluate(values))
    assert close(gb, matdiff.diff(text, "b").evaluate(values))
    assert close(hbb, matdiff.hessian(text, "b").evaluate(values))
    assert close(hWb, matdiff.hessian(text, "W", "b").evaluate(values))
    assert close(hbW, matdiff.hessian(text, "b", "W").evaluate(values))
    assert close(hWW, matdiff.hessian(text, "W").evaluate(values))


def test_jax_backend_is_jitted_and_matches_numpy():
    values = values_for(matdiff.parse("−yᵀlog(softmax(Wx))"), seed=9)
    jnp_out = matdiff.compile("−yᵀlog(softmax(Wx))", "W", backend="jax")(**values)
    np_out = matdiff.compile("−yᵀlog(softmax(Wx))", "W")(**values)
    assert isinstance(jnp_out[1], jax.Array)
    assert close(jnp_out[1], np_out[1]) and close(jnp_out[0], np_out[0])
    assert close(np_out[1], matdiff.diff("−yᵀlog(softmax(Wx))", "W").evaluate(values))


VEC_KRON_CASES = [("aᵀvec(X)", "X"), ("‖vec(X)‖²", "X"), ("sum(X ⊗ B)", "X"),
                  ("sum(B ⊗ X)", "X"), ("tr((X ⊗ B)C)", "X"), ("aᵀK vec(X)", "X"),
                  ("sum(vec(Xᵀ) ⊙ vec(X))", "X")]


@pytest.mark.parametrize("text,wrt", VEC_KRON_CASES)
def test_gradients_through_vec_and_kron_are_right_and_compile(text, wrt, tmp_path):
    """d vec(X) = vec(dX) read back as a gradient (⟨g, vec M⟩ = ⟨unvec g, M⟩) and through
    ⊗ (each entry of M meets one block of G): checked by sympy and central differences,
    then compiled by both backends against evaluate."""
    d = matdiff.diff(text, wrt)
    assert d.verify().ok
    values = values_for(d.expr, seed=12)
    for backend in BACKENDS:
        value, gradient = matdiff.compile(text, wrt, backend=backend)(**values)
        assert close(gradient, d.evaluate(values))
    assert load_source(d.to_code(), tmp_path).check_gradient(**values) < 1e-6
    if text == "‖vec(X)‖²":
        assert str(d) == "2 X"


@pytest.mark.parametrize("backend", BACKENDS)
def test_jacobians_and_hessians_by_matrices_compile_on_both_backends(backend):
    """A vector-valued f gives its Jacobian, a matrix-valued f its derivative tensor, and a
    Hessian by a matrix the (m·n)×(m·n) matrix of evaluate — on each backend."""
    for text, wrt in (("σ(Wx)", "W"), ("softmax(Ax)", "x"), ("XᵀAX", "X"), ("X⁻¹", "X")):
        d = matdiff.diff(text, wrt)
        values = values_for(d.expr, seed=13)
        _, jacobian = matdiff.compile(text, wrt, backend=backend)(**values)
        assert close(jacobian, d.evaluate(values))
    for text, wrt in (("tr(XᵀAX)", "X"), ("½‖σ(Wx) − y‖²", "W"), ("log det X", "X")):
        h = matdiff.hessian(text, wrt)
        values = values_for(h.f, seed=14)
        _, gradient, hessian = matdiff.compile(text, wrt, hessian=True,
                                               backend=backend)(**values)
        assert close(hessian, h.evaluate(values))
        assert close(gradient, matdiff.diff(text, wrt).evaluate(values))


# ----- the performance rules, visible in the code (each also checked by value) ---------

def code_for(text, wrt, sizes, hessian=False):
    fn = matdiff.compile(text, wrt, hessian=hessian)
    values = {}
    rng = np.random.default_rng(0)
    for name, sym in fn.spec.symbols.items():
        shape = tuple(sizes[d] if isinstance(d, str) else d for d in sym.shape)
        values[name] = rng.uniform(0.5, 1.5, shape[:1] if shape[1:] == (1,) else shape)
        if len(shape) == 2 and shape[0] == shape[1] and shape != (1, 1):
            values[name] += shape[0] * np.eye(shape[0])
    out = fn(**values)
    _, sz = matdiff.check.evaluate.bind(fn.spec.symbols, values)
    return fn.source(sz), out, values


def test_a_vector_product_is_distributed_and_a_matrix_product_is_not():
    code, (_, g), values = code_for("xᵀAx", "x", {"m": 300})
    assert "A @ x" in code and "A.T @ x" in code and "A + A.T" not in code
    assert close(g, (values["A"] + values["A"].T) @ values["x"])
    code, (_, g), values = code_for("tr(XᵀAX)", "X", {"m": 300, "n": 300})
    assert "(A + A.T) @ X" in code
    assert close(g, (values["A"] + values["A"].T) @ values["X"])


def test_weighted_gram_without_a_diagonal_matrix_and_stable_softplus():
    code, (_, _, H), values = code_for("sum(log(1 + exp(Ax)))", "x", {"m": 50, "n": 40},
                                       hessian=True)
    # σ ⊙ (1 − σ) ≥ 0 by construction: the syrk form with no run-time sign check
    assert "_gram(np.sqrt(" in code and "np.diag(" not in code and "np.all(" not in code
    assert "np.logaddexp(0.0, " in code and "np.exp(t1)" not in code and "np.log(" not in code
    s = 1 / (1 + np.exp(-(values["A"] @ values["x"])))
    assert close(H, values["A"].T @ ((s * (1 - s))[:, None] * values["A"]))


@pytest.mark.parametrize("backend", BACKENDS)
def test_weighted_gram_checks_the_sign_only_when_it_is_not_known(backend):
    """Aᵀdiag(w)A: exp(Ax) ≥ 0 is known (syrk, no check); sin(Ax) has either sign (NumPy
    checks at run time; JAX, without branches, takes the plain product)."""
    for text, known in (("sum(exp(Ax))", True), ("sum(sin(Ax))", False)):
        fn = matdiff.compile(text, "x", hessian=True, backend=backend)
        values = values_for(matdiff.parse(text), seed=11)
        _, gradient, hessian = fn(**values)
        assert close(hessian, matdiff.hessian(text, "x").evaluate(values))
        assert close(gradient, matdiff.diff(text, "x").evaluate(values))
        code = fn.source({"m": 3, "n": 4})
        np_ = "np" if backend == "numpy" else "jnp"
        assert (f"_gram({np_}.sqrt(" in code) == known
        if backend == "numpy":
            assert ("np.all(w >= 0)" in code) != known


def test_a_once_applied_inverse_is_a_solve_and_order_follows_the_sizes():
    code, (v, g), values = code_for("aᵀX⁻¹b", "b", {"m": 30})
    assert "np.linalg.solve(" in code and "np.linalg.inv(" not in code
    inverse = np.linalg.inv(values["X"])
    assert close(v, values["a"] @ inverse @ values["b"])
    assert close(g, inverse.T @ values["a"])
    code, (v, g), values = code_for("tr(X⁻¹A)", "A", {"m": 30})   # X⁻ᵀ is the result
    assert "np.linalg.inv(" in code and close(g, np.linalg.inv(values["X"]).T)


def test_chain_order_is_specialised_per_call_signature():
    fn = matdiff.compile("tr(ABCX)", "X", shapes="A: p×q; B: q×r; C: r×s; X: s×p")
    rng = np.random.default_rng(1)
    for p, q, r, s in ((2, 60, 3, 60), (60, 3, 60, 2)):
        vals = {"A": rng.standard_normal((p, q)), "B": rng.standard_normal((q, r)),
                "C": rng.standard_normal((r, s)), "X": rng.standard_normal((s, p))}
        _, g = fn(**vals)
        assert close(g, (vals["A"] @ vals["B"] @ vals["C"]).T)
    assert len(fn._functions) == 2
    a = fn.source({"p": 2, "q": 60, "r": 3, "s": 60})
    b = fn.source({"p": 60, "q": 3, "r": 60, "s": 2})
    assert a != b


def test_each_shared_subexpression_is_computed_once():
    code, (_, g), values = code_for("½‖σ(Wx) − y‖²", "W", {"m": 20, "n": 30})
    assert code.count("W @ x") == 1 and code.count("logaddexp") == 1
    W, x, y = values["W"], values["x"], values["y"]
    s = 1 / (1 + np.exp(-(W @ x)))
    assert close(g, np.outer((s - y) * s * (1 - s), x))


def test_the_value_reuses_the_gradient_by_eulers_theorem():
    """tr(XᵀAX) is homogeneous of degree 2 in X, so f = ½⟨X, ∇f⟩: one n³ product, not two.
    xᵀAx keeps x @ (A @ x), which already shares A @ x with the gradient."""
    code, (v, g), values = code_for("tr(XᵀAX)", "X", {"m": 200, "n": 200})
    X, A = values["X"], values["A"]
    assert code.count(" @ ") == 1 and "np.vdot(X, t1)" in code
    assert close(v, np.trace(X.T @ A @ X)) and close(g, (A + A.T) @ X)
    code, (v, g), values = code_for("xᵀAx", "x", {"m": 200})
    assert "value = x @ t1" in code
    assert close(v, values["x"] @ values["A"] @ values["x"])
    code, (v, g), values = code_for("‖Ax − b‖²", "x", {"m": 50, "n": 40})   # not homogeneous
    assert "vdot" not in code and close(v, np.sum((values["A"] @ values["x"] - values["b"]) ** 2))


def test_vectors_stay_one_dimensional_and_log_softmax_is_shared():
    code, (v, g), values = code_for("−yᵀlog(softmax(Wx))", "W", {"m": 20, "n": 30})
    body = code[code.index("def compute"):code.index("def check_gradient")]
    assert "reshape" not in body and "[:, None] * x" in body and "y.sum()" in body
    assert body.count("_logsumexp(") == 1 and "_softmax(" not in body
    W, x, y = values["W"], values["x"], values["y"]
    z = W @ x
    p = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
    assert close(v, -(y @ np.log(p))) and close(g, np.outer(y.sum() * p - y, x))


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_fast_call_path_accepts_every_form_of_value_alike(backend):
    """After the first call the function goes straight to the module for float64 arrays in
    its own layout; lists, columns n×1, integers, 0-d arrays and np.matrix take the
    checked path — all give the same answer."""
    fn = matdiff.compile("½‖σ(Wx) − y‖² + λ sum(W ⊙ W)", "W", backend=backend)
    rng = np.random.default_rng(3)
    W, x, y = rng.standard_normal((3, 4)), rng.standard_normal(4), rng.uniform(size=3)
    want = fn(W=W, x=x, y=y, λ=0.5)
    again = fn(W=W, x=x, y=y, λ=0.5)
    assert len(fn._functions) == 1
    for other in (dict(W=W.tolist(), x=list(x), y=y, λ=0.5),
                  dict(W=W, x=x[:, None], y=y[:, None], λ=np.float64(0.5)),
                  dict(W=np.matrix(W), x=x, y=y, λ=np.array(0.5)),
                  dict(W=W.round(0).astype(int), x=x, y=y, λ=1)):
        got = fn(**other)
        ref = matdiff.diff("½‖σ(Wx) − y‖² + λ sum(W ⊙ W)", "W").evaluate(
            {k: np.asarray(v, dtype=float) for k, v in other.items()})
        assert close(got[1], ref) and np.shape(got[1]) == (3, 4)
    for out in (want, again):
        assert close(out[1], matdiff.diff("½‖σ(Wx) − y‖² + λ sum(W ⊙ W)", "W").evaluate(
            dict(W=W, x=x, y=y, λ=0.5)))
    with pytest.raises(matdiff.EvaluationError, match="no value given for y"):
        fn(W=W, x=x, λ=0.5)
    with pytest.raises(TypeError):        # values by name only: no order to guess
        fn(W, x, y, 0.5)
    with pytest.raises(matdiff.EvaluationError, match="x should be"):
        fn(W=W, x=np.ones(5), y=y, λ=0.5)


def test_names_that_are_not_identifiers_take_the_checked_call_path():
    from matdiff import codegen
    module = codegen.load(codegen.dispatcher_source(("a b", "c"), (False, True), "numpy"))
    seen = []
    call = module.make({}, lambda rest, *given: seen.append((rest, given)) or "checked", None)
    assert call(**{"a b": 1.0, "c": 2.0}) == "checked"
    assert seen == [({"a b": 1.0, "c": 2.0}, (None, None))]


@pytest.mark.parametrize("backend", BACKENDS)
def test_kronecker_forms_are_multiplied_factor_by_factor(backend):
    """(X⁻¹ ⊗ X⁻ᵀ)K permutes columns instead of multiplying by the mn×mn K;
    (x ⊗ I)(diag(a) + diag(b) − diag(c))(xᵀ ⊗ I) is xxᵀ ⊗ diag(a + b − c) (mixed products),
    with one diagonal matrix and no n·m×n·m product."""
    for text, wrt, absent, present in (
            ("log det X", "X", "_commutation(", "_commutation_index("),
            ("aᵀX⁻¹b", "X", "_commutation(", "_commutation_index("),
            ("½‖σ(Wx) − y‖²", "W", "eye(", "kron(x[:, None] * x, ")):
        h = matdiff.hessian(text, wrt)
        values = values_for(h.f, seed=15)
        fn = matdiff.compile(text, wrt, hessian=True, backend=backend)
        _, gradient, hessian = fn(**values)
        assert close(hessian, h.evaluate(values))
        assert close(gradient, matdiff.diff(text, wrt).evaluate(values))
        code = fn.source({"m": 3, "n": 4})
        body = code[code.index("def compute"):code.index("def check_gradient")]
        assert absent not in body and present in body


# ----- errors --------------------------------------------------------------------------

def test_wrong_shapes_and_names_are_typed_errors():
    fn = matdiff.compile("xᵀAx", "x")
    fn(A=np.eye(3), x=np.ones(3))
    with pytest.raises(matdiff.EvaluationError, match="A should be m×m"):
        fn(A=np.eye(3), x=np.ones(4))
    with pytest.raises(matdiff.EvaluationError, match="no value given for A"):
        fn(x=np.ones(3))
    with pytest.raises(matdiff.EvaluationError, match="q is not a symbol"):
        fn(A=np.eye(3), x=np.ones(3), q=1.0)
    with pytest.raises(matdiff.MatdiffError, match="unknown backend"):
        matdiff.compile("xᵀAx", "x", backend="fortran")
    with pytest.raises(matdiff.NoRuleError, match="needs a scalar"):
        matdiff.compile("Ax", "x", hessian=True)


def test_a_node_without_a_rule_is_a_no_rule_error():
    rules = {k: v for k, v in numpy_backend.RULES.items() if k is not Trace}
    partial = emit.Backend(name="partial", rules=rules, imports="import numpy as np",
                           helpers=numpy_backend.HELPERS, array="np.asarray({x})", np="np")
    spec = matdiff.compile("tr(X) + tr(X)ᵀ", "X").spec
    with pytest.raises(matdiff.NoRuleError, match="no rule for Trace"):
        emit.module_source(spec, partial)


def test_the_cli_prints_a_module_that_runs(tmp_path):
    run = subprocess.run([sys.executable, "-m", "matdiff", "code", "½‖σ(Wx) − y‖²", "--wrt",
                          "W"], capture_output=True, text=True, check=True)
    assert "def f_and_g(W, x, y):" in run.stdout and "def check_gradient(" in run.stdout
    path = tmp_path / "loss.py"
    path.write_text(run.stdout, encoding="utf-8")
    out = subprocess.run([sys.executable, str(path)], capture_output=True, text=True,
                         check=True).stdout
    error = float(out.strip().splitlines()[-1].split(":")[-1])
    assert error < 1e-6
    bad = subprocess.run([sys.executable, "-m", "matdiff", "code", "xᵀAx", "--wrt", "x",
                          "--hessian", "--backend", "jax"], capture_output=True, text=True)
    assert bad.returncode == 0 and "jax.jit(f_and_g)" in bad.stdout
    err = subprocess.run([sys.executable, "-m", "matdiff", "code", "Ax +", "--wrt", "x"],
                         capture_output=True, text=True)
    assert err.returncode == 1 and "Traceback" not in err.stderr


# Every node type, each entrywise function: a derivative that contains it, compiled by
# both backends, agrees with evaluate (the value and the derivative).
SHAPES = DECLARATIONS + "; X: n×n; a, b: scalar"
NODE_CASES = [
    ("sum(tan(x))", "x"), ("sum(arcsin(x/4))", "x"), ("sum(arccos(x/4))", "x"),
    ("sum(arctan(Ax))", "x"), ("sum(relu(Ax))", "x"), ("sum(softplus(Ax))", "x"),
    ("sum(abs(Ax))", "x"), ("sum(sign(Ax) ⊙ y)", "x"), ("sum(step(Ax) ⊙ Ax)", "x"),
    ("sum(x.^3)", "x"), ("sum(x.^α)", "α"), ("a^b", "a"), ("sum(σ(x) ⊙ sqrt(x))", "x"),
    ("sum(softmax(X) ⊙ B)", "X"), ("sum(logsumexp(X))", "X"),
    ("(B ⊗ B)vec(X) + vec(Xᵀ)", "X"), ("XᵀX", "X"), ("Wx", "W"),
    ("xᵀ I_n x + 𝟏_nᵀx + tr(0_(n×n))", "x"), ("mean(x) + tr(I_n) xᵀx + logsumexp(0_n)", "x"),
    ("logdet(X) + log det X + tr(X⁻¹) + det(X)", "X"), ("‖Ax − b‖ + logsumexp(x) + zᵀsoftmax(x)", "x"),
    ("sum(exp(x) ⊙ log(x) ./ cos(x)) + sin(xᵀx)", "x"), ("tanh(tr(diag(x)B))", "x"),
    ("sum(diag(X)) + tr(X³)", "X"),
]


def _case(text, wrt):
    d = matdiff.diff(text, wrt, shapes=SHAPES)
    return d, values_for(d.expr, d.expr, seed=8)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("text,wrt", NODE_CASES)
def test_every_node_type_compiles_to_the_value_of_evaluate(text, wrt, backend):
    d, values = _case(text, wrt)
    value, derivative = matdiff.compile(text, wrt, shapes=SHAPES,
                                        backend=backend)(**values)
    assert close(value, matdiff.check.evaluate.to_user(
        matdiff.check.evaluate.evaluate(d.expr, values), d.expr.shape))
    assert close(derivative, d.evaluate(values))


def test_the_node_cases_reach_every_node_type_and_function():
    """So that the test above is exhaustive: the expressions and derivatives of NODE_CASES
    contain every node type of core.nodes.NODES and every entrywise function."""
    from matdiff.core.nodes import ELEMENTWISE, NODES, Func, walk
    seen_types, seen_funcs = set(), set()
    for text, wrt in NODE_CASES:
        d, _ = _case(text, wrt)
        for node in list(walk(d.expr)) + list(walk(d.main_form())) + list(walk(d.differential)):
            seen_types.add(type(node))
            if isinstance(node, Func):
                seen_funcs.add(node.name)
    assert set(NODES) - seen_types == set()
    assert set(ELEMENTWISE) - seen_funcs == set()


def test_every_node_type_has_a_rule_in_both_backends():
    """A node type added to the engine without a codegen rule fails here, not for a user."""
    from matdiff.codegen import jax as jax_backend
    from matdiff.core.nodes import ELEMENTWISE, NODES
    for backend in (numpy_backend.BACKEND, jax_backend.BACKEND):
        missing = [t.__name__ for t in NODES if t not in backend.rules]
        assert missing == [], f"{backend.name}: no rule for {missing}"
        functions = [f for f in ELEMENTWISE if f not in backend.elementwise]
        assert functions == [], f"{backend.name}: no spelling for {functions}"


@pytest.mark.parametrize("backend", BACKENDS)
def test_row_wise_softmax_and_logsumexp_are_stable(backend):
    """Entries near 1000 overflow exp; the shifted forms stay finite and equal evaluate."""
    text = "sum(softmax(X) ⊙ B) + sum(logsumexp(X))"
    d = matdiff.diff(text, "X", shapes=SHAPES)
    values = values_for(d.expr, d.expr, seed=9)
    values["X"] = np.asarray(values["X"]) + 1000.0
    value, gradient = matdiff.compile(text, "X", shapes=SHAPES, backend=backend)(**values)
    assert np.isfinite(value) and np.all(np.isfinite(gradient))
    assert close(gradient, d.evaluate(values))


@pytest.mark.parametrize("backend", BACKENDS)
def test_sigmoid_from_the_shared_softplus_is_stable(backend):
    """σ(u) = exp(u − softplus(u)) when softplus(u) is computed for the value anyway: finite
    and right for |Ax| near 800, where exp overflows."""
    fn = matdiff.compile("sum(log(1 + exp(Ax)))", "x", hessian=True, backend=backend)
    A = np.array([[400.0, 0.0], [0.0, -400.0], [1.0, 1.0]])
    x = np.array([2.0, 2.0])
    value, gradient, hessian = fn(A=A, x=x)
    z = A @ x
    s = np.exp(-np.logaddexp(0.0, -z))
    assert np.isclose(value, 800.0 + np.logaddexp(0.0, 4.0), rtol=1e-12)
    assert close(gradient, A.T @ s) and close(hessian, A.T @ ((s * (1 - s))[:, None] * A))
    assert "np.exp(t1 - t2)" in fn.source({"m": 3, "n": 2}).replace("jnp", "np")


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("text,wrt", [("sum(softmax(XW) ⊙ Y)", "W"), ("sum(logsumexp(XW))", "W"),
                                      ("sum(abs(X).^3)", "X"), ("sum(x.^α) + sum(arctan(x))", "x"),
                                      ("sum(step(x) ⊙ x.^2) + sum(relu(Ax))", "x")])
def test_hessians_through_the_new_nodes_compile_to_the_value_of_evaluate(text, wrt, backend):
    h = matdiff.hessian(text, wrt)
    values = values_for(h.f, seed=10)
    _, gradient, hessian = matdiff.compile(text, wrt, hessian=True, backend=backend)(**values)
    assert close(hessian, h.evaluate(values))
    assert close(gradient, matdiff.diff(text, wrt).evaluate(values))
