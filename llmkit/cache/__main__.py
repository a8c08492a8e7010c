"""`python -m llmkit.cache stats|clear [--older-than 7d] [--dir DIR]`: inspect or empty the response cache.

Exit codes: 0 done, 1 the cache directory could not be opened, 2 usage error (argparse's convention).
A directory that does not exist is reported as empty and is not created.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Sequence
from pathlib import Path

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
        print(f"error: cannot open the cache at {directory} (see the warning above)", file=sys.stderr)
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


def _human(seconds: float) -> str:
    for unit, size in sorted(_UNITS.items(), key=lambda kv: -kv[1]):
        if seconds >= size and seconds % size == 0:
            count = int(seconds // size)
            return f"{count}{unit}"
    return f"{seconds:g}s"


if __name__ == "__main__":
    sys.exit(main())
