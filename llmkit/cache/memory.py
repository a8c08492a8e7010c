"""An in-process LRU of recently read or written cache entries, in front of the disk store.

Why: a disk hit costs a SQLite query plus checksum and JSON decoding; re-runs (eval sweeps, notebook cells)
read the same entries again and again, so keeping decoded entries in memory makes a hit cost a dict lookup.

Why it stays correct:
- an entry keeps its TTL deadline and is dropped once it passes;
- every `clear` (from any process, e.g. `python -m llmkit.cache clear`) rewrites a marker file in the cache
  directory; each lookup compares the marker's stat (about a microsecond) with the one seen when the entries
  were loaded and forgets everything if it changed, so a cleared entry is never served from memory;
- entries are immutable and only ever written after a successful disk read or write, so memory can never
  hold an answer the disk did not (at that moment) hold for the same key.
Entries evicted from disk by its size limit may still be served from memory; they are still correct answers.
"""

from __future__ import annotations

import os
import secrets
import threading
import time
from collections import OrderedDict
from pathlib import Path

from llmkit.cache.records import CachedAnswer

MARKER_NAME = "llmkit-generation"
Stamp = tuple[int, int, int, int] | None


class RecentEntries:
    """Bounded LRU of CachedAnswer, invalidated by the directory's marker file (see the module docstring)."""

    def __init__(self, directory: Path, max_entries: int = 100_000, max_chars: int = 16 << 20) -> None:
        self.marker = directory / MARKER_NAME
        self.max_entries = max_entries
        self.max_chars = max_chars  # text kept in memory, all entries together (a sweep's worth, not unbounded)
        self._chars = 0
        self._entries: OrderedDict[str, tuple[CachedAnswer, float | None]] = OrderedDict()
        self._seen: Stamp = None
        self._lock = threading.Lock()

    def stamp(self) -> Stamp:
        """The marker's identity now; None if there is none (then nothing is kept in memory)."""
        try:
            st = os.stat(self.marker)
        except OSError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_ctime_ns, st.st_size)

    def ensure_marker(self) -> None:
        if not self.marker.exists():
            self.bump()

    def bump(self) -> None:
        """Tell every process's memory that the directory changed under it (called by clear)."""
        tmp = self.marker.with_name(f".{MARKER_NAME}.{os.getpid()}.{secrets.token_hex(4)}")
        tmp.write_text(secrets.token_hex(16))
        os.replace(tmp, self.marker)
        self.forget()

    def forget(self) -> None:
        with self._lock:
            self._entries.clear()
            self._chars = 0
            self._seen = None

    def get(self, key: str) -> CachedAnswer | None:
        if self.max_entries <= 0:
            return None
        stamp = self.stamp()
        with self._lock:
            if stamp is None or stamp != self._seen:
                self._entries.clear()
                self._chars = 0
                self._seen = stamp
                return None
            item = self._entries.get(key)
            if item is None:
                return None
            answer, deadline = item
            if deadline is not None and deadline <= time.time():
                del self._entries[key]
                self._chars -= _size(answer)
                return None
            self._entries.move_to_end(key)
            return answer

    def put(self, answer: CachedAnswer, deadline: float | None, stamp_before: Stamp) -> None:
        """Remember an entry read or written on disk; `stamp_before` is the marker seen before that disk
        operation, so an entry that raced a clear is not kept."""
        if self.max_entries <= 0 or stamp_before is None:
            return
        size = _size(answer)
        if size > self.max_chars // 16:  # one huge answer must not flush everything else
            return
        with self._lock:
            if stamp_before != self._seen:
                self._entries.clear()
                self._chars = 0
                self._seen = stamp_before
            previous = self._entries.pop(answer.key, None)
            if previous is not None:
                self._chars -= _size(previous[0])
            self._entries[answer.key] = (answer, deadline)
            self._chars += size
            while len(self._entries) > self.max_entries or self._chars > self.max_chars:
                _, (evicted, _) = self._entries.popitem(last=False)
                self._chars -= _size(evicted)

    def __len__(self) -> int:
        return len(self._entries)


def _size(answer: CachedAnswer) -> int:
    return len(answer.content) + len(answer.reasoning or "") + 256  # + a rough per-entry overhead
