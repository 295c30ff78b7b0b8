"""``matdiff serve``: run the web app with uvicorn on a local address."""
from __future__ import annotations

import os

import uvicorn


def serve(host: str = "127.0.0.1", port: int = 8765, workers: int = 1, pool: int = 2,
          time_limit: float = 10.0, memory_mb: int = 1024) -> int:
    """Print the URL and serve until interrupted.  The settings reach every server
    process (``workers``) through the environment, since uvicorn imports the app anew."""
    os.environ["MATDIFF_WEB_POOL"] = str(pool)
    os.environ["MATDIFF_WEB_TIME_LIMIT"] = str(time_limit)
    os.environ["MATDIFF_WEB_MEMORY_MB"] = str(memory_mb)
    loopback = host in ("127.0.0.1", "localhost", "::1")
    os.environ["MATDIFF_WEB_HOSTS"] = "127.0.0.1,localhost,::1" if loopback else "*"
    shown = f"[{host}]" if ":" in host else host
    print(f"matdiff web app: http://{shown}:{port}/  (Ctrl-C stops it)", flush=True)
    uvicorn.run("matdiff.web.app:create_app", factory=True, host=host, port=port,
                workers=workers, log_level="warning")
    return 0
