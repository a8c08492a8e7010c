"""Read a diskcache directory that this process may not write (a shared, read-only or read-only-mounted cache).

diskcache.Cache cannot open such a directory: it runs `CREATE TABLE` and writes its settings on open, and SQLite
in WAL mode needs to create `cache.db-shm` beside the database. This reader opens the database through SQLite's
`mode=ro` URI, or, when even that needs a write (no `-shm` file and a directory it cannot create one in), with
`immutable=1` — what SQLite documents for read-only media. It answers the few read operations ResponseCache uses,
with diskcache's own queries and Disk (so large values stored as files are read the same way).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

DBNAME = "cache.db"


def _connect(database: Path, timeout: float) -> sqlite3.Connection:
    last: sqlite3.Error | None = None
    for flags in ("mode=ro", "immutable=1"):
        uri = f"file:{quote(str(database.resolve()))}?{flags}"
        try:
            connection = sqlite3.connect(uri, uri=True, timeout=timeout, check_same_thread=False,
                                         isolation_level=None)
            connection.execute("SELECT count(*) FROM Cache").fetchone()
            return connection
        except sqlite3.Error as exc:
            last = exc
    assert last is not None
    raise last


class ReadOnlyCache:
    """The read side of a diskcache.Cache (get, iteration, membership, len, volume) over a read-only database."""

    def __init__(self, directory: Path, disk: type[Any], timeout: float) -> None:
        database = directory / DBNAME
        if not database.is_file():
            raise FileNotFoundError(f"no {DBNAME} in {directory}")
        self.directory = str(directory)
        self._disk = disk(self.directory)
        self._lock = threading.Lock()
        self._db = _connect(database, timeout)

    def _rows(self, sql: str, args: tuple[Any, ...] = ()) -> list[Any]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    def get(self, key: str, default: Any = None, expire_time: bool = False) -> Any:
        rows = self._rows("SELECT expire_time, mode, filename, value FROM Cache WHERE key = ? AND raw = 1 "
                          "AND (expire_time IS NULL OR expire_time > ?)", (key, time.time()))
        if not rows:
            return (default, None) if expire_time else default
        deadline, mode, filename, value = rows[0]
        try:
            fetched = self._disk.fetch(mode, filename, value, False)
        except OSError:
            fetched = default
        return (fetched, deadline) if expire_time else fetched

    def __iter__(self) -> Iterator[Any]:
        return iter([key for (key,) in self._rows("SELECT key FROM Cache ORDER BY rowid")])

    def __contains__(self, key: object) -> bool:
        return bool(self._rows("SELECT 1 FROM Cache WHERE key = ? AND raw = 1 AND (expire_time IS NULL OR "
                               "expire_time > ?)", (key, time.time())))

    def __len__(self) -> int:
        return int(self._rows("SELECT count(*) FROM Cache")[0][0])

    def volume(self) -> int:
        pages = int(self._rows("PRAGMA page_count")[0][0])
        size = int(self._rows("PRAGMA page_size")[0][0])
        stored = self._rows("SELECT value FROM Settings WHERE key = 'size'")
        return pages * size + int(stored[0][0] if stored else 0)

    def close(self) -> None:
        with self._lock:
            self._db.close()
