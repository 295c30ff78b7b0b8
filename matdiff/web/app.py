"""The web app: routes only (Starlette).  The work goes through matdiff.report, in a pool.

* ``GET /`` the page; ``/static/*`` its script, style and the vendored KaTeX.
* ``POST /api/<endpoint>`` (diff, hessian, steps, code, eval, shapes): the body uses the
  CLI's words, the answer is what ``--json`` prints; an error is a JSON object with the
  message, line and column and a 4xx status (501 for an endpoint not in this version).
* ``GET /api/examples``: the identity library, for the examples menu.

Stateless: every request carries everything it needs, so ``--workers N`` and any load
balancer scale it.  Every response carries a restrictive Content-Security-Policy.
"""
from __future__ import annotations

import json
import math
import os
from contextlib import asynccontextmanager
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from ..core.errors import MatdiffError
from ..report import error_report
from .endpoints import RequestError, endpoint
from .pool import (BusyError, TimeLimitError, WorkerPool, default_memory_mb, default_size,
                   default_time_limit)

STATIC = Path(__file__).resolve().parent / "static"
MAX_BODY = 16 * 1024   # bytes: far more than any expression a person types

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; font-src 'self'; "
       "img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; "
       "frame-ancestors 'none'")
HEADERS = [(b"content-security-policy", CSP.encode()), (b"x-content-type-options", b"nosniff"),
           (b"referrer-policy", b"no-referrer"), (b"x-frame-options", b"DENY"),
           (b"cross-origin-opener-policy", b"same-origin")]


class SecurityHeaders:
    """ASGI middleware: the security headers on every response."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + HEADERS
            await send(message)
        await self.app(scope, receive, send_with_headers)


def finite(value):
    """JSON has no NaN or infinity: such a number (a check's max error) becomes null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [finite(v) for v in value]
    return value


def error(err: MatdiffError, status: int) -> JSONResponse:
    return JSONResponse(error_report(err), status_code=status)


async def read_json(request: Request):
    """The body as JSON, refusing more than MAX_BODY bytes before reading them all."""
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY):
        raise RequestError(f"the request is larger than {MAX_BODY} bytes", 413)
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            raise RequestError(f"the request is larger than {MAX_BODY} bytes", 413)
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise RequestError("the request body is not JSON; send an object such as "
                           '{"expr": "aᵀXb", "wrt": "X"}') from None


async def api(request: Request) -> JSONResponse:
    name = request.path_params["name"]
    try:
        endpoint(name)                       # 404 / 501 without occupying a worker
        body = await read_json(request)
        status, answer = await request.app.state.pool.run(name, body)
    except RequestError as e:
        return error(e, e.status)
    except TimeLimitError as e:
        return error(e, 422)
    except BusyError as e:
        return error(e, 503)
    except MatdiffError as e:
        return error(e, 500)
    return JSONResponse(finite(answer), status_code=status)


async def examples(request: Request) -> JSONResponse:
    return JSONResponse(request.app.state.examples)


async def page(request: Request) -> FileResponse:
    return FileResponse(STATIC / "index.html", media_type="text/html; charset=utf-8")


def _examples() -> list[dict]:
    from ..identities import load
    return [{"id": e.id, "section": e.section, "expr": e.expr, "wrt": e.wrt, "let": e.let,
             "wrt2": e.wrt2, "kind": e.kind, "convention": e.convention, "layout": e.layout,
             "result": e.result} for e in load()]


def create_app(pool_size: int | None = None, time_limit: float | None = None,
               memory_mb: int | None = None, hosts: list[str] | None = None) -> Starlette:
    """The app; its worker pool starts and stops with it (ASGI lifespan).

    ``hosts``: the Host headers it answers (``matdiff serve`` on a loopback address allows
    only loopback names, so a web page cannot reach it by DNS rebinding); default all."""
    if hosts is None:
        hosts = os.environ.get("MATDIFF_WEB_HOSTS", "*").split(",")

    @asynccontextmanager
    async def lifespan(app):
        app.state.pool = WorkerPool(pool_size or default_size(),
                                    time_limit or default_time_limit(),
                                    default_memory_mb() if memory_mb is None else memory_mb)
        app.state.examples = _examples()
        await app.state.pool.start()
        try:
            yield
        finally:
            await app.state.pool.close()

    routes = [Route("/", page), Route("/api/examples", examples),
              Route("/api/{name}", api, methods=["POST"]),
              Mount("/static", StaticFiles(directory=STATIC), name="static")]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=hosts)
    app.add_middleware(SecurityHeaders)
    return app
