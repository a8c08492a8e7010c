"""Line framing fed by bytes: a response body, in whatever chunks the network delivered, -> the executor's
`(event, data)` items. One decoder for both transports, so they cannot disagree.

- Lines end with LF, CRLF or a lone CR (the SSE rule; a CRLF split across two chunks is one line end). Splitting
  happens on bytes, before decoding, so a multi-byte UTF-8 character split across chunks is never torn (LF and CR
  never occur inside one); undecodable bytes become U+FFFD. U+2028 inside JSON is not a line end.
- `sse`: events assembled per the SSE spec (`event` defaults to "message", comment lines starting with ":" are
  skipped, data lines joined with LF); an event is dispatched at a blank line if it had data or a name.
- `ndjson`: every non-blank line; `data-lines`: the payload of every `data:` line.
"""

from __future__ import annotations

from llmkit.errors import StreamError

Item = tuple[str, str]
MAX_LINE_BYTES = 16 * 1024 * 1024  # a "line" larger than this is not a stream we can parse


class LineFramer:
    """Feed bytes, get complete items; `close()` flushes a last unterminated line."""

    __slots__ = ("_after_cr", "_buffer", "_data", "_event", "_mode")

    def __init__(self, decode: str = "sse") -> None:
        if decode not in ("sse", "ndjson", "data-lines"):
            raise ValueError(f"unknown stream framing {decode!r}: expected 'sse', 'ndjson' or 'data-lines'")
        self._mode = decode
        self._buffer = b""
        self._after_cr = False  # the last chunk ended with CR: a LF opening the next one ends no new line
        self._event = ""
        self._data: list[str] = []

    def feed(self, chunk: bytes) -> list[Item]:
        if not chunk:
            return []
        if self._after_cr:
            self._after_cr = False
            if chunk[:1] == b"\n":
                chunk = chunk[1:]
        if b"\r" in chunk:
            self._after_cr = chunk[-1:] == b"\r"
            chunk = chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        if self._buffer:
            chunk = self._buffer + chunk
        lines = chunk.split(b"\n")
        self._buffer = lines.pop()
        if len(self._buffer) > MAX_LINE_BYTES:
            raise StreamError(f"the stream sent a line longer than {MAX_LINE_BYTES} bytes", status_code=200)
        return self._items(lines)

    def close(self) -> list[Item]:
        """The end of the body: a last line without its line end still counts (and so does its event)."""
        lines = [self._buffer, b""] if self._buffer else [b""]
        self._buffer = b""
        return self._items(lines) if self._mode == "sse" else self._items(lines[:1])

    def _items(self, lines: list[bytes]) -> list[Item]:
        items: list[Item] = []
        mode = self._mode
        for raw in lines:
            line = raw.decode("utf-8", "replace")
            if mode == "sse":
                self._sse_line(line, items)
            elif mode == "ndjson":
                if line.strip():
                    items.append(("", line))
            elif line.startswith("data:"):
                items.append(("", line[6:] if line.startswith("data: ") else line[5:]))
        return items

    def _sse_line(self, line: str, items: list[Item]) -> None:
        if not line:
            if self._data or self._event:
                items.append((self._event or "message", "\n".join(self._data)))
                self._event, self._data = "", []
            return
        if line[0] == ":":  # a comment, e.g. a keep-alive
            return
        name, colon, value = line.partition(":")
        if colon and value[:1] == " ":
            value = value[1:]
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        # `id` and `retry` matter to browsers reconnecting; a model stream is never resumed
