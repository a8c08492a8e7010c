"""Issue 16.7: a cache directory this process cannot write still serves its hits (read-only mode), with one
warning; new answers are not stored. The reader runs as another process; as root (where permissions do not bind)
it drops to the `nobody` user, so the directory is really read-only for it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from llmkit.cache import ResponseCache
from llmkit.factory import LLMFactory

READER = """
import json, sys, warnings
from llmkit.cache import CacheWarning, open_cache
from llmkit.factory import LLMFactory
directory = sys.argv[1]
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    answers = [LLMFactory.create_llm("echo:mock", cache=directory).send_user_message_sync(p)
               for p in ("one", "two", "new", "one", "new")]
    stats = open_cache(directory).stats()  # the process-wide store the calls used
print(json.dumps({"cached": [a.cached for a in answers], "content": [a.content for a in answers],
                  "warnings": [str(w.message) for w in caught if issubclass(w.category, CacheWarning)],
                  "entries": stats.entries}))
"""


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A directory every user can traverse (pytest's tmp_path is private to its owner)."""
    base = Path(tempfile.mkdtemp(prefix="llmkit-ro-"))
    base.chmod(0o755)
    yield base
    for path in [base, *base.rglob("*")]:
        if path.is_dir():
            path.chmod(0o755)
    shutil.rmtree(base)


def _reader_command() -> list[str]:
    if os.geteuid() != 0:
        return [sys.executable]
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: cannot make a directory read-only for the reader")
    return [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable]


def _make_read_only(directory: Path) -> None:
    for path in [directory, *directory.rglob("*")]:
        path.chmod(0o555 if path.is_dir() else 0o444)


def test_a_read_only_cache_serves_hits_with_one_warning(shared_dir: Path) -> None:
    cache_dir = shared_dir / "cache"
    for prompt in ("one", "two"):
        LLMFactory.create_llm("echo:mock", cache=cache_dir).send_user_message_sync(prompt)
    ResponseCache(cache_dir).close()
    _make_read_only(cache_dir)
    before = sorted(p.name for p in cache_dir.iterdir())
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "HOME": str(shared_dir)}
    result = subprocess.run([*_reader_command(), "-c", READER, str(cache_dir)], capture_output=True, text=True,
                            env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)
    assert seen["cached"] == [True, True, False, True, False]  # hits served; the new answer was not stored
    assert seen["content"][2] == "Echo: new"
    assert len(seen["warnings"]) == 1 and "read-only" in seen["warnings"][0]
    assert "serving hits" in seen["warnings"][0]
    assert seen["entries"] == 2
    assert sorted(p.name for p in cache_dir.iterdir()) == before  # nothing written


def test_clear_on_a_read_only_cache_exits_1_with_one_line(shared_dir: Path) -> None:
    cache_dir = shared_dir / "cache"
    LLMFactory.create_llm("echo:mock", cache=cache_dir).send_user_message_sync("one")
    ResponseCache(cache_dir).close()
    _make_read_only(cache_dir)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "HOME": str(shared_dir)}
    stats = subprocess.run([*_reader_command(), "-m", "llmkit.cache", "stats", "--json", "--dir", str(cache_dir)],
                           capture_output=True, text=True, env=env, timeout=60)
    assert stats.returncode == 0 and json.loads(stats.stdout)["entries"] == 1
    cleared = subprocess.run([*_reader_command(), "-m", "llmkit.cache", "clear", "--dir", str(cache_dir)],
                             capture_output=True, text=True, env=env, timeout=60)
    assert cleared.returncode == 1
    assert [line for line in cleared.stderr.splitlines() if line.startswith("error:")] == [
        f"error: the cache at {cache_dir} is read-only for this user; clear it as a user who may write there"]
