"""Servers that misbehave on purpose: ``GarbageServer`` answers 200 with junk on every path, ``HungServer`` accepts
TCP connections and never answers (for discovery-robustness and timeout tests)."""

from __future__ import annotations

import contextlib
import select
import socket
import threading
from typing import Any, Literal

from starlette.responses import Response

from .address import LoopbackAddress
from .base import Endpoint, Exchange, LoopbackServer

GarbageKind = Literal["invalid_json", "html", "wrong_shape", "empty"]
BODIES: dict[str, tuple[str, str]] = {
    "invalid_json": ('{"models": [{"name": "half', "application/json"),
    "html": ("<!doctype html><html><body><h1>Welcome to nginx!</h1></body></html>", "text/html"),
    "wrong_shape": ('{"status": "ok", "items": 3}', "application/json"),
    "empty": ("", "application/json"),
}


class GarbageServer(LoopbackServer):
    """200 on every path and method; ``kind`` picks the junk (changeable between requests)."""

    def __init__(self, kind: GarbageKind = "invalid_json", **options: Any) -> None:
        self.kind: GarbageKind = kind
        super().__init__(**options)

    def endpoints(self) -> list[Endpoint]:
        methods = ("GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH")
        return [Endpoint("/{anything:path}", self._junk, methods)]

    def error_response(self, scenario: str, ex: Exchange) -> Response:
        return self._respond()

    async def _junk(self, ex: Exchange) -> Response:
        return self._respond()

    def _respond(self) -> Response:
        body, media_type = BODIES[self.kind]
        return Response(body, media_type=media_type)


class HungServer(LoopbackAddress):
    """Listens on 127.0.0.1, accepts connections, reads nothing and never replies."""

    def __init__(self) -> None:
        self.port: int | None = None
        self.connections: list[socket.socket] = []
        self._listener: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    def start(self, port: int = 0) -> HungServer:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", port))
        listener.listen(64)
        self._listener, self.port = listener, listener.getsockname()[1]
        self._stopping.clear()
        self._thread = threading.Thread(target=self._accept_forever, name="HungServer", daemon=True)
        self._thread.start()
        return self

    def _accept_forever(self) -> None:
        assert self._listener is not None
        while not self._stopping.is_set():
            ready, _, _ = select.select([self._listener], [], [], 0.05)
            if ready:
                conn, _ = self._listener.accept()
                self.connections.append(conn)

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(5)
        for sock in [*self.connections, self._listener]:
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.close()
        self.connections.clear()
        self._listener = self._thread = None
