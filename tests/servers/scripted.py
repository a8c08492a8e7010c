"""``ScriptedServer``: a raw HTTP/1.1 server on 127.0.0.1 that answers every request with a script of byte writes,
pauses and an early close, so tests control exactly what arrives and when (chunk boundaries inside a multi-byte
character, keep-alive comments forever, a body cut short, a web page where a stream was expected).

A script is a list of steps: ``bytes`` (written and flushed, then a short pause so the next write arrives as its own
chunk), a ``float`` (sleep that many seconds) or ``CLOSE`` (drop the connection now). ``server.script`` may be a
list (every request) or a callable taking the 0-based request number (e.g. a 429 first, then a 200).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import Callable, Sequence

from .address import LoopbackAddress

Step = bytes | float | str
Script = Sequence[Step]
CLOSE = "close"
_GAP_S = 0.01  # between writes, so each write reaches the client as a separate read


def response_head(status: int = 200, content_type: str = "application/json", *, chunked: bool = False,
                  length: int | None = None, headers: dict[str, str] | None = None) -> bytes:
    lines = [f"HTTP/1.1 {status} X", f"content-type: {content_type}"]
    if chunked:
        lines.append("transfer-encoding: chunked")
    elif length is not None:
        lines.append(f"content-length: {length}")
    else:
        lines.append("connection: close")  # the body ends when the connection does
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def chunk(data: bytes) -> bytes:
    """One HTTP/1.1 chunk of a chunked body."""
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


LAST_CHUNK = b"0\r\n\r\n"


def json_reply(status: int, body: bytes, content_type: str = "application/json",
               headers: dict[str, str] | None = None) -> list[Step]:
    return [response_head(status, content_type, length=len(body), headers=headers) + body]


def chunked_reply(pieces: Sequence[bytes], content_type: str = "text/event-stream") -> list[Step]:
    """A complete chunked answer whose body arrives in exactly these pieces."""
    return [response_head(200, content_type, chunked=True), *(chunk(p) for p in pieces), LAST_CHUNK]


class ScriptedServer(LoopbackAddress):
    """See the module docstring. ``requests`` counts the requests answered (or being answered)."""

    def __init__(self, script: Script | Callable[[int], Script] = ()) -> None:
        self.script = script
        self.requests = 0
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.AbstractServer | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()

    def start(self) -> ScriptedServer:
        self._thread = threading.Thread(target=self._run, name="ScriptedServer", daemon=True)
        self._thread.start()
        self._ready.wait(10)
        return self

    def _run(self) -> None:
        loop = self._loop = asyncio.new_event_loop()
        self._server = loop.run_until_complete(asyncio.start_server(self._serve, "127.0.0.1", 0, backlog=1024))
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        with contextlib.suppress(Exception):
            loop.run_forever()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            while await self._read_request(reader):
                number, self.requests = self.requests, self.requests + 1
                script = self.script(number) if callable(self.script) else self.script
                if not await self._play(script, writer):
                    break
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            with contextlib.suppress(Exception):
                writer.close()

    @staticmethod
    async def _read_request(reader: asyncio.StreamReader) -> bool:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            return False
        length = 0
        for line in head.split(b"\r\n"):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        if length:
            await reader.readexactly(length)
        return True

    @staticmethod
    async def _play(script: Script, writer: asyncio.StreamWriter) -> bool:
        """Play one answer; False when the connection must end (a CLOSE step or a close-delimited body)."""
        for step in script:
            if step == CLOSE:
                return False
            if isinstance(step, float):
                await asyncio.sleep(step)
            elif isinstance(step, bytes):
                writer.write(step)
                await writer.drain()
                await asyncio.sleep(_GAP_S)
        first = script[0] if script else b""
        return not (isinstance(first, bytes) and b"connection: close" in first)

    def stop(self) -> None:
        loop, server = self._loop, self._server
        if loop is not None and server is not None:
            async def shutdown() -> None:
                server.close()
                others = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
                for task in others:
                    task.cancel()
                await asyncio.gather(*others, return_exceptions=True)
                loop.stop()

            asyncio.run_coroutine_threadsafe(shutdown(), loop)
        if self._thread is not None:
            self._thread.join(5)
