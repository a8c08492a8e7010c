"""The on-disk store of cached answers: a thin, failure-proof layer over diskcache.

Why it looks like this:
- diskcache (SQLite in WAL mode) is safe when several processes read and write one directory at once, so
  parallel sweeps can share a cache without locks of our own.
- Every disk operation is wrapped: a corrupt entry, a directory that cannot be created or became read-only,
  a locked database or any other diskcache error is reported with a `CacheWarning` and treated as a miss (or
  a skipped write). The cache can make a run faster; it must never make it fail or answer wrongly.
- A directory this process can read but not write (a shared cache, a read-only mount) is opened read-only
  (`readonly.ReadOnlyCache`): hits are served, new answers and hit counts are not stored, one warning says so.
- Values are `records.encode` bytes (JSON behind a checksum); diskcache stores bytes as raw BLOBs, and the
  Disk below refuses to unpickle anything, so opening someone else's cache directory cannot run code.
- Hit/miss counts are kept in memory and added to two counter keys at most once a second (and on close or
  exit): counting on every read would turn each hit into a write transaction.
- `open_cache` shares one store per directory in a process, so creating many clients is cheap, and its
  in-memory LRU of decoded entries (`memory.RecentEntries`) serves repeated hits without touching SQLite.
"""

from __future__ import annotations

import atexit
import contextlib
import errno
import logging
import os
import threading
import time
import warnings
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llmkit import settings
from llmkit.cache.memory import RecentEntries
from llmkit.cache.records import CachedAnswer, CorruptEntryError, decode, encode

logger = logging.getLogger("llmkit.cache")

ENV_DIR = "LLMKIT_CACHE_DIR"
HITS_KEY = "llmkit:stats:hits"
MISSES_KEY = "llmkit:stats:misses"
COUNTER_KEYS = (HITS_KEY, MISSES_KEY)
FLUSH_INTERVAL_S = 1.0
DEFAULT_TIMEOUT_S = 10.0
CULL_EVERY = 256


class CacheWarning(UserWarning):
    """The response cache could not read or write; the call went ahead without it."""


def default_cache_dir() -> Path:
    """`$LLMKIT_CACHE_DIR`, else the platform's user cache directory for llmkit plus `/responses`."""
    override = settings.value(ENV_DIR)
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("llmkit")) / "responses"


def warn_cache(message: str) -> None:
    """Tell the user (warnings) and the logs that the cache was bypassed."""
    logger.warning("%s", message)
    warnings.warn(message, CacheWarning, stacklevel=3)


@dataclass(frozen=True, slots=True)
class CacheStats:
    """What `python -m llmkit.cache stats` prints."""

    directory: str
    entries: int
    size_bytes: int
    hits: int
    misses: int

    @property
    def hit_rate(self) -> float | None:
        lookups = self.hits + self.misses
        return self.hits / lookups if lookups else None


def _json_only_disk() -> type[Any]:
    """A diskcache Disk that never unpickles (imported lazily, like diskcache itself)."""
    import diskcache

    class JsonOnlyDisk(diskcache.Disk):  # type: ignore[misc]
        def fetch(self, mode: int, filename: str | None, value: Any, read: bool) -> Any:
            if mode == diskcache.core.MODE_PICKLE:
                raise CorruptEntryError("stored value is a pickle; llmkit cache entries are JSON")
            return super().fetch(mode, filename, value, read)

    return JsonOnlyDisk


class ResponseCache:
    """Cached answers in one directory. Methods never raise for disk problems: they warn and carry on."""

    def __init__(self, directory: str | os.PathLike[str] | None = None, *, size_limit: int | None = None,
                 timeout: float = DEFAULT_TIMEOUT_S, backend: Any = None, memory_entries: int = 100_000) -> None:
        self.directory = Path(backend.directory) if backend is not None else (
            Path(directory).expanduser() if directory is not None else default_cache_dir())
        self.size_limit = size_limit
        self._timeout = timeout
        self._backend: Any = backend
        self._unusable = False
        self.read_only = False  # set when the directory can be read but not written (see _open_read_only)
        self.open_error: str | None = None  # why the directory could not be opened at all
        self._lock = threading.Lock()
        self._pending = {HITS_KEY: 0, MISSES_KEY: 0}
        self._last_flush = time.monotonic()
        self._memory = RecentEntries(self.directory, memory_entries)
        self._marked = False
        self._writes = 0
        _live_stores.add(self)

    # ----- opening ------------------------------------------------------------------------------------------
    def _open(self) -> Any:
        """The diskcache.Cache, opened on first use; None (after one warning) if the directory is unusable."""
        if self._marked or self._unusable:
            return self._backend
        with self._lock:
            if self._backend is None and not self._unusable:
                try:
                    import diskcache

                    # cull_limit=0: no size check inside every write (it doubles a write's cost); put() culls
                    # every CULL_EVERY writes instead, so the size limit still holds, a little loosely.
                    settings: dict[str, Any] = {"eviction_policy": "least-recently-stored", "statistics": 0,
                                                "cull_limit": 0}
                    if self.size_limit is not None:
                        settings["size_limit"] = int(self.size_limit)
                    self._backend = diskcache.Cache(str(self.directory), timeout=self._timeout,
                                                    disk=_json_only_disk(), **settings)
                except Exception as exc:
                    self._backend = self._open_read_only(exc)
                    self._unusable = self._backend is None
            if self._backend is not None and not self._marked:
                with contextlib.suppress(OSError):  # a read-only directory: entries are then read from disk only
                    self._memory.ensure_marker()
                self._marked = True
        return self._backend

    def _open_read_only(self, error: Exception) -> Any:
        """A directory we may read but not write still serves hits (one warning); anything else disables the cache."""
        reason = f"{type(error).__name__}: {error}"
        if _looks_read_only(self.directory, error):
            from llmkit.cache.readonly import ReadOnlyCache

            try:
                backend = ReadOnlyCache(self.directory, _json_only_disk(), self._timeout)
            except Exception as exc:
                reason = f"{type(exc).__name__}: {exc}"
            else:
                self.read_only = True
                warn_cache(f"Response cache at {self.directory} is read-only ({error}): serving hits, "
                           "not storing new answers")
                return backend
        self.open_error = reason
        warn_cache(f"Response cache disabled: cannot open {self.directory} ({reason})")
        return None

    @property
    def usable(self) -> bool:
        """Whether the directory could be opened (opening it, and warning once, if that has not happened)."""
        return self._open() is not None

    # ----- entries ------------------------------------------------------------------------------------------
    def get(self, key: str) -> CachedAnswer | None:
        """The entry for key, or None on a miss, an expired entry, or an entry that cannot be read."""
        remembered = self._memory.get(key)
        if remembered is not None:
            return remembered
        backend = self._open()
        if backend is None:
            return None
        stamp = self._memory.stamp()
        try:
            value, deadline = backend.get(key, expire_time=True)
        except Exception as exc:
            warn_cache(f"Response cache read failed in {self.directory} ({type(exc).__name__}: {exc}); "
                       "treated as a miss")
            return None
        if value is None:
            return None
        try:
            answer = decode(value, key)
        except CorruptEntryError as exc:
            warn_cache(f"Ignoring unreadable response cache entry {key[:12]}… in {self.directory}: {exc}")
            return None
        self._memory.put(answer, deadline, stamp)
        return answer

    def put(self, answer: CachedAnswer, ttl: float | None = None) -> bool:
        """Store an entry (expiring after ttl seconds if given); False, with a warning, if it could not be."""
        backend = self._open()
        if backend is None or self.read_only:
            return False
        stamp = self._memory.stamp()
        deadline = time.time() + ttl if ttl is not None else None
        try:
            backend.set(answer.key, encode(answer), expire=ttl)
        except Exception as exc:
            warn_cache(f"Response cache write failed in {self.directory} ({type(exc).__name__}: {exc}); not cached")
            return False
        self._memory.put(answer, deadline, stamp)
        self._writes += 1
        if self._writes % CULL_EVERY == 0:
            self._cull(backend)
        return True

    def _cull(self, backend: Any) -> None:
        """Drop expired entries and, above the size limit, the oldest ones."""
        try:
            backend.cull(retry=True)
        except Exception as exc:
            warn_cache(f"Response cache could not enforce its size limit in {self.directory} ({exc})")

    def delete(self, key: str) -> bool:
        backend = self._open()
        if backend is None or self.read_only:
            return False
        try:
            deleted = bool(backend.delete(key, retry=True))
        except Exception as exc:
            warn_cache(f"Response cache delete failed in {self.directory} ({type(exc).__name__}: {exc})")
            return False
        self._changed()
        return deleted

    def _changed(self) -> None:
        """Entries went away: make every process's in-memory copy forget (see llmkit.cache.memory)."""
        try:
            self._memory.bump()
        except OSError as exc:
            self._memory.forget()
            warn_cache(f"Response cache could not mark {self.directory} as changed ({exc}); other processes may "
                       "serve cleared entries from memory until they restart")

    def keys(self) -> Iterator[str]:
        """Keys of the entries (not the counters)."""
        backend = self._open()
        if backend is None:
            return
        for key in backend:
            if key not in COUNTER_KEYS:
                yield key

    def __contains__(self, key: object) -> bool:
        backend = self._open()
        return backend is not None and isinstance(key, str) and key not in COUNTER_KEYS and key in backend

    # ----- statistics -------------------------------------------------------------------------------------
    def record(self, hit: bool) -> None:
        """Count a lookup; the counts reach disk at most once a second (see the module docstring)."""
        with self._lock:
            self._pending[HITS_KEY if hit else MISSES_KEY] += 1
            due = time.monotonic() - self._last_flush >= FLUSH_INTERVAL_S
        if due:
            self.flush()

    def flush(self) -> None:
        """Add the counts gathered in this process to the shared counters."""
        with self._lock:
            pending, self._pending = self._pending, {HITS_KEY: 0, MISSES_KEY: 0}
            self._last_flush = time.monotonic()
        if not any(pending.values()):
            return
        backend = self._open()
        if backend is None or self.read_only:
            return
        try:
            for key, count in pending.items():
                if count:
                    backend.incr(key, count, default=0, retry=True)
        except Exception as exc:
            warn_cache(f"Response cache could not update its hit counters ({type(exc).__name__}: {exc})")

    def stats(self) -> CacheStats:
        """Entries, size on disk and hits/misses of every process that used this directory."""
        self.flush()
        backend = self._open()
        if backend is None:
            return CacheStats(str(self.directory), 0, 0, 0, 0)
        try:
            hits, misses = (int(backend.get(k, default=0)) for k in COUNTER_KEYS)
            counters = sum(1 for k in COUNTER_KEYS if k in backend)
            return CacheStats(str(self.directory), len(backend) - counters, int(backend.volume()), hits, misses)
        except Exception as exc:
            warn_cache(f"Response cache statistics unavailable ({type(exc).__name__}: {exc})")
            return CacheStats(str(self.directory), 0, 0, 0, 0)

    # ----- maintenance --------------------------------------------------------------------------------------
    def clear(self, older_than_s: float | None = None) -> int:
        """Remove every entry (and the counters), or only entries stored more than older_than_s seconds ago
        (plus unreadable and expired ones, which can never be hits); returns how many entries went."""
        backend = self._open()
        if backend is None or self.read_only:
            return 0
        if older_than_s is None:
            with self._lock:
                self._pending = {HITS_KEY: 0, MISSES_KEY: 0}
            counters = sum(1 for k in COUNTER_KEYS if k in backend)
            removed = int(backend.clear(retry=True)) - counters
            self._changed()
            return removed
        removed = int(backend.expire(retry=True))
        cutoff = time.time() - older_than_s
        for key in list(self.keys()):
            try:
                value = backend.get(key)
                stale = value is not None and decode(value, key).created_at < cutoff
            except Exception:
                stale = True
            if stale and backend.delete(key, retry=True):
                removed += 1
        self._changed()
        return removed

    def close(self) -> None:
        self.flush()
        if self._backend is not None:
            self._backend.close()

    def __repr__(self) -> str:
        return f"ResponseCache({str(self.directory)!r})"


def _looks_read_only(directory: Path, error: Exception) -> bool:
    """The open failed because this process may not write there (permissions, a read-only mount), and there is
    a database to read."""
    if not (directory / "cache.db").is_file():
        return False
    writable = os.access(directory, os.W_OK) and os.access(directory / "cache.db", os.W_OK)
    return not writable or "readonly" in str(error) or isinstance(error, PermissionError) or \
        getattr(error, "errno", None) == errno.EROFS


_live_stores: weakref.WeakSet[ResponseCache] = weakref.WeakSet()
_shared: dict[tuple[str, int | None], ResponseCache] = {}
_shared_lock = threading.Lock()


def open_cache(directory: str | os.PathLike[str] | None = None, *, size_limit: int | None = None) -> ResponseCache:
    """The process-wide store for a directory (default: `default_cache_dir()`), created on first use."""
    path = Path(directory).expanduser() if directory is not None else default_cache_dir()
    name = (os.path.abspath(path), size_limit)
    with _shared_lock:
        store = _shared.get(name)
        if store is None:
            store = _shared[name] = ResponseCache(path, size_limit=size_limit)
        return store


@atexit.register
def _flush_all() -> None:
    with warnings.catch_warnings():  # interpreter shutdown: never make exit noisy
        warnings.simplefilter("ignore")
        for store in list(_live_stores):
            if store.directory.is_dir():  # a temporary cache may be gone already
                with contextlib.suppress(Exception):
                    store.flush()
