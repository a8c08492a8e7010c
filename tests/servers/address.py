"""What every loopback test server shares: its address on 127.0.0.1 and `with server:` (start, then stop)."""

from __future__ import annotations

from typing import Any, Self


class LoopbackAddress:
    """Mixed into a server class that has `port`, `start()` (returning the server) and `stop()`."""

    port: Any

    def start(self) -> Self:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return f"http://{self.host}"
