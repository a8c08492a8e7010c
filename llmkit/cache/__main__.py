"""`python -m llmkit.cache stats|clear [--older-than 7d] [--force] [--dir DIR]`: inspect or empty the response cache.

Exit codes: 0 done, 1 the cache directory could not be opened (or is read-only, for clear), 2 usage error
(argparse's convention). A directory that does not exist is reported as empty and is not created.
`clear --force` deletes the files of a cache that cannot be opened (a corrupt database): only diskcache's files
(`cache.db*`, its two-hex-digit value folders) and llmkit's marker, never anything else in the directory.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

from llmkit.cache.memory import MARKER_NAME
from llmkit.cache.readonly import DBNAME
from llmkit.cache.store import CacheStats, ResponseCache, default_cache_dir

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$", re.IGNORECASE)


def parse_duration(text: str) -> float:
    """'90', '90s', '15m', '12h', '7d', '2w' -> seconds (argparse type: ValueError becomes a usage error)."""
    match = _DURATION.match(text)
    if not match:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration; use a number with s, m, h, d or w, e.g. 7d")
    return float(match.group(1)) * _UNITS[(match.group(2) or "s").lower()]


def _size(num_bytes: int) -> str:
    value = float(num_bytes)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"  # pragma: no cover


def _print_stats(stats: CacheStats, as_json: bool) -> None:
    if as_json:
        print(json.dumps({"directory": stats.directory, "entries": stats.entries, "size_bytes": stats.size_bytes,
                          "hits": stats.hits, "misses": stats.misses, "hit_rate": stats.hit_rate}))
        return
    rate = f" (hit rate {stats.hit_rate:.1%})" if stats.hit_rate is not None else ""
    print(f"Cache directory: {stats.directory}")
    print(f"Entries:         {stats.entries}")
    print(f"Size on disk:    {_size(stats.size_bytes)}")
    print(f"Hits / misses:   {stats.hits} / {stats.misses}{rate}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m llmkit.cache", description="Inspect or clear llmkit's response "
                                     "cache (default directory: $LLMKIT_CACHE_DIR, else the platform cache dir).")
    commands = parser.add_subparsers(dest="command", required=True, metavar="{stats,clear}")
    for name, text in (("stats", "entries, size on disk, hits and misses"), ("clear", "remove entries")):
        sub = commands.add_parser(name, help=text, description=text)
        sub.add_argument("--dir", type=Path, default=None,
                         help="cache directory (default: $LLMKIT_CACHE_DIR, else the platform cache dir)")
        if name == "stats":
            sub.add_argument("--json", action="store_true", help="print one JSON object")
        else:
            sub.add_argument("--older-than", type=parse_duration, default=None, metavar="DURATION",
                             help="only entries stored longer ago than this, e.g. 7d, 12h, 30m")
            sub.add_argument("--force", action="store_true",
                             help="if the cache cannot be opened (corrupt), delete its files; it is recreated on use")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    directory: Path = args.dir if args.dir is not None else default_cache_dir()
    if not directory.exists():
        if args.command == "stats":
            _print_stats(CacheStats(str(directory), 0, 0, 0, 0), args.json)
        else:
            print(f"Removed 0 entries: no cache at {directory}")
        return 0
    if not directory.is_dir():
        print(f"error: {directory} is not a directory", file=sys.stderr)
        return 2
    cache = ResponseCache(directory)
    if not cache.usable:
        if args.command == "clear" and args.force:
            return _remove_files(directory)
        fix = f"; if it is corrupt, delete it with: python -m llmkit.cache clear --force --dir {directory}" \
            if args.command == "clear" or (directory / DBNAME).is_file() else ""
        print(f"error: cannot open the cache at {directory} ({cache.open_error}){fix}", file=sys.stderr)
        return 1
    if args.command == "clear" and cache.read_only:
        print(f"error: the cache at {directory} is read-only for this user; clear it as a user who may write "
              "there", file=sys.stderr)
        return 1
    try:
        if args.command == "stats":
            _print_stats(cache.stats(), args.json)
        else:
            removed = cache.clear(args.older_than)
            scope = f" stored more than {_human(args.older_than)} ago" if args.older_than is not None else ""
            print(f"Removed {removed} entr{'y' if removed == 1 else 'ies'}{scope} from {directory}")
    finally:
        cache.close()
    return 0


def _remove_files(directory: Path) -> int:
    """Delete the files of a cache that cannot be opened (see the module docstring)."""
    targets = [p for p in directory.iterdir() if p.name.startswith(DBNAME) or p.name == MARKER_NAME]
    targets += [p for p in directory.iterdir() if _is_value_folder(p)]
    if not any(p.name == DBNAME for p in targets):
        print(f"error: {directory} holds no {DBNAME}; it is not a cache that --force can remove", file=sys.stderr)
        return 1
    try:
        for path in targets:
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink()
    except OSError as exc:
        print(f"error: cannot delete {exc.filename} ({exc.strerror}); remove the cache directory by hand",
              file=sys.stderr)
        return 1
    print(f"Removed the unreadable cache at {directory} ({len(targets)} files and folders); a new one is created "
          "on next use")
    return 0


def _is_value_folder(path: Path) -> bool:
    """diskcache keeps large values in `xx/yy/<hex>.val` (two hex digits per folder)."""
    if not (path.is_dir() and re.fullmatch(r"[0-9a-f]{2}", path.name)):
        return False
    return all(p.is_dir() or p.suffix == ".val" for p in path.rglob("*"))


def _human(seconds: float) -> str:
    for unit, size in sorted(_UNITS.items(), key=lambda kv: -kv[1]):
        if seconds >= size and seconds % size == 0:
            count = int(seconds // size)
            return f"{count}{unit}"
    return f"{seconds:g}s"


if __name__ == "__main__":
    sys.exit(main())
