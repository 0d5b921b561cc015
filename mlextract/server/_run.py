"""Running the API: blocking (the CLI) or in a background thread (tests, notebooks)."""

from __future__ import annotations

import threading
import time

import httpx
import uvicorn

__all__ = ["ServerThread", "serve"]


def serve(app, *, host: str = "127.0.0.1", port: int = 8000, log_level: str = "info"):
    """Serve ``app`` with uvicorn until interrupted."""
    uvicorn.run(app, host=host, port=port, log_level=log_level)


class ServerThread:
    """Run an app with uvicorn in a background thread, on an OS-assigned port.

    Use it as a context manager: the server is ready (``/health`` answers) on entry
    and stopped on exit, whatever happens inside.

    Parameters
    ----------
    app : ASGI app
    host : str, default="127.0.0.1"
    port : int, default=0
        0 lets the OS choose a free port.
    startup_timeout : float, default=10.0
        Seconds to wait for ``/health``.

    Attributes
    ----------
    url : str
        ``http://host:port`` once started.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from mlextract.oracles import LocalOracle
    >>> from mlextract.server import create_app
    >>> import numpy as np
    >>> model = LogisticRegression().fit(np.array([[0.0], [1.0]]), [0, 1])
    >>> with ServerThread(create_app(LocalOracle(model))) as server:
    ...     httpx.get(server.url + "/health", timeout=5).json()
    {'status': 'ok'}
    """

    def __init__(self, app, *, host="127.0.0.1", port=0, startup_timeout=10.0):
        self.app = app
        self.host = host
        self.port = port
        self.startup_timeout = startup_timeout
        self.url = None
        self._server = None
        self._thread = None

    def start(self):
        config = uvicorn.Config(self.app, host=self.host, port=self.port, log_level="warning",
                                lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + self.startup_timeout
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError("the server thread stopped during start-up; see its log.")
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError(f"the server did not start within {self.startup_timeout} s.")
            time.sleep(0.01)
        sock = self._server.servers[0].sockets[0]
        port = sock.getsockname()[1]
        self.url = f"http://{self.host}:{port}"
        while True:
            try:
                if httpx.get(self.url + "/health", timeout=1.0).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError(f"/health did not answer within {self.startup_timeout} s.")
            time.sleep(0.02)
        return self

    def stop(self):
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server = self._thread = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False
