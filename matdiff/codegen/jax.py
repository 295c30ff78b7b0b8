"""The JAX backend: the NumPy rules spelled with jax.numpy, where JAX has its own stable
primitive (sigmoid, softmax, logsumexp) and without data-dependent branches, so that the
generated function is jit-compatible (``f_and_g_jit = jax.jit(f_and_g)``)."""
from __future__ import annotations

from .numpy import ELEMENTWISE as NUMPY_ELEMENTWISE
from .numpy import HELPERS as NUMPY_HELPERS
from .numpy import LAYOUT_RULES as NUMPY_LAYOUT_RULES
from .numpy import RULES as NUMPY_RULES
from .plan import WeightedGram
from .emit import Backend, as_2d, as_kind, atom

RULES = {
    **NUMPY_RULES,
    WeightedGram: lambda n, a, e: f"{atom(a[0])}.T @ ({atom(a[1])} * {atom(a[0])})",
}


def _weighted_gram(n, a, e):
    """No data-dependent branch under jit: the syrk form only when w ≥ 0 is known."""
    (b, bk), (w, wk) = a
    b, w = atom(as_2d(b, bk)), as_kind(w, wk, "c")
    if n.nonneg:
        return f"{e.helper('_gram')}(jnp.sqrt({w})[:, None] * {b})", "m"
    return f"{b}.T @ ({atom(w)}[:, None] * {b})", "m"


LAYOUT_RULES = {**NUMPY_LAYOUT_RULES, WeightedGram: _weighted_gram}

ELEMENTWISE = {
    **NUMPY_ELEMENTWISE,
    "sigmoid": "jax.nn.sigmoid({u})",
    "softplus": "jax.nn.softplus({u})",
}

HELPERS = {
    **NUMPY_HELPERS,
    "_softmax": '''def _softmax(u):
    return jax.nn.softmax(u, axis=0)
''',
    "_logsumexp": '''def _logsumexp(u):
    return jax.scipy.special.logsumexp(u)
''',
    "_softmax_rows": '''def _softmax_rows(X):
    return jax.nn.softmax(X, axis=1)
''',
    "_logsumexp_rows": '''def _logsumexp_rows(X):
    return jax.scipy.special.logsumexp(X, axis=1, keepdims=True)
''',
}

BACKEND = Backend(
    name="jax", rules=RULES, layout_rules=LAYOUT_RULES, helpers=HELPERS, np="jnp",
    imports="import jax\nimport jax.numpy as jnp\nimport jax.scipy.special\n\n"
            "np = jnp   # helpers are written once for both array namespaces",
    array="jnp.asarray({x}, dtype=jnp.result_type(float))",
    wrap="f_and_g_jit = jax.jit(f_and_g)", elementwise=ELEMENTWISE)
