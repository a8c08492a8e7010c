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
        complete, newline, self._buffer = chunk.rpartition(b"\n")
        if len(self._buffer) > MAX_LINE_BYTES:
            raise StreamError(f"the stream sent a line longer than {MAX_LINE_BYTES} bytes", status_code=200)
        if not newline:
            return []
        # decoded once per chunk, not per line: the same text, since a line end never sits inside a UTF-8 sequence
        return self._items(complete.decode("utf-8", "replace").split("\n"))

    def close(self) -> list[Item]:
        """The end of the body: a last line without its line end still counts (and so does its event)."""
        last = self._buffer.decode("utf-8", "replace")
        self._buffer = b""
        lines = [last, ""] if last else [""]
        return self._items(lines) if self._mode == "sse" else self._items(lines[:1])

    def _items(self, lines: list[str]) -> list[Item]:
        if self._mode == "sse":
            return self._sse(lines)
        if self._mode == "ndjson":
            return [("", line) for line in lines if line.strip()]
        return [("", line[6:] if line.startswith("data: ") else line[5:]) for line in lines if line.startswith("data:")]

    def _sse(self, lines: list[str]) -> list[Item]:
        """SSE events; one loop without a call per line, as this runs for every line of every stream."""
        items: list[Item] = []
        event, data = self._event, self._data
        for line in lines:
            if not line:
                if data or event:
                    items.append((event or "message", "\n".join(data)))
                    event, data = "", []
                continue
            name, colon, value = line.partition(":")
            if not name:  # the line starts with ":": a comment, e.g. a keep-alive
                continue
            if colon and value[:1] == " ":
                value = value[1:]
            if name == "data":
                data.append(value)
            elif name == "event":
                event = value
            # `id` and `retry` matter to browsers reconnecting; a model stream is never resumed
        self._event, self._data = event, data
        return items
