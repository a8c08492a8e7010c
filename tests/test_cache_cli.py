"""`python -m llmkit.cache stats|clear`: output, --older-than, --dir and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from llmkit.cache import CachedAnswer, ResponseCache, open_cache
from llmkit.cache.__main__ import main, parse_duration
from llmkit.factory import LLMFactory
from llmkit.messages import CompleteResponse, TokenUsage


def fill(directory: Path) -> None:
    for prompt in ("one", "two", "three"):
        LLMFactory.create_llm("echo:mock", cache=directory).send_user_message_sync(prompt)
    LLMFactory.create_llm("echo:mock", cache=directory).send_user_message_sync("one")  # a hit
    open_cache(directory).flush()


def test_stats_prints_entries_size_and_hits(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fill(tmp_path)
    assert main(["stats", "--dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "Entries:         3" in out and "Hits / misses:   1 / 3 (hit rate 25.0%)" in out
    assert "Size on disk:" in out and str(tmp_path) in out
    assert main(["stats", "--dir", str(tmp_path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["entries"] == 3 and data["hits"] == 1 and data["misses"] == 3 and data["size_bytes"] > 0


def test_clear_older_than_keeps_recent_entries(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fill(tmp_path)
    old = CachedAnswer.from_response("a" * 64, CompleteResponse("old", usage=TokenUsage(1, 1)),
                                     created_at=1_600_000_000.0)
    assert ResponseCache(tmp_path).put(old)
    assert main(["clear", "--older-than", "7d", "--dir", str(tmp_path)]) == 0
    assert "Removed 1 entry stored more than 1w ago" in capsys.readouterr().out
    assert ResponseCache(tmp_path).stats().entries == 3
    assert main(["clear", "--dir", str(tmp_path)]) == 0
    assert "Removed 3 entries" in capsys.readouterr().out
    stats = ResponseCache(tmp_path).stats()
    assert (stats.entries, stats.hits, stats.misses) == (0, 0, 0)


def test_default_directory_comes_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("LLMKIT_CACHE_DIR", str(tmp_path / "env-cache"))
    LLMFactory.create_llm("echo:mock", cache=True).send_user_message_sync("x")
    assert main(["stats"]) == 0
    out = capsys.readouterr().out
    assert str(tmp_path / "env-cache") in out and "Entries:         1" in out


def test_a_missing_directory_is_empty_and_not_created(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nothing-here"
    assert main(["stats", "--dir", str(missing)]) == 0
    assert "Entries:         0" in capsys.readouterr().out
    assert main(["clear", "--dir", str(missing)]) == 0
    assert not missing.exists()


@pytest.mark.parametrize("argv", [[], ["purge"], ["clear", "--older-than", "soon"], ["stats", "--older-than", "1d"]])
def test_usage_errors_exit_2(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2


def test_parse_duration() -> None:
    assert parse_duration("7d") == 7 * 86400
    assert parse_duration("12h") == 43200
    assert parse_duration("30m") == 1800
    assert parse_duration("90") == parse_duration("90s") == 90
    assert parse_duration("1.5h") == 5400


def test_runs_as_a_module(tmp_path: Path) -> None:
    fill(tmp_path)
    stats = subprocess.run([sys.executable, "-m", "llmkit.cache", "stats", "--dir", str(tmp_path)],
                           capture_output=True, text=True)
    assert stats.returncode == 0 and "Entries:         3" in stats.stdout
    cleared = subprocess.run([sys.executable, "-m", "llmkit.cache", "clear", "--dir", str(tmp_path)],
                             capture_output=True, text=True)
    assert cleared.returncode == 0 and "Removed 3 entries" in cleared.stdout
    bad = subprocess.run([sys.executable, "-m", "llmkit.cache", "frobnicate"], capture_output=True, text=True)
    assert bad.returncode == 2 and "usage:" in bad.stderr


# ----- issue 16.9: a corrupt cache says how to remove it, and --force removes it ---------------------------------
def _corrupt_database(directory: Path) -> None:
    fill(directory)
    (directory / "cache.db").write_bytes(b"this is not an SQLite database at all" * 100)
    for suffix in ("-wal", "-shm"):
        (directory / f"cache.db{suffix}").unlink(missing_ok=True)


def test_clear_on_a_corrupt_cache_says_how_to_remove_it(tmp_path: Path) -> None:
    cache_dir = tmp_path / "c"
    _corrupt_database(cache_dir)
    result = subprocess.run([sys.executable, "-m", "llmkit.cache", "clear", "--dir", str(cache_dir)],
                            capture_output=True, text=True)
    assert result.returncode == 1
    error = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(error) == 1 and "cannot open" in error[0] and "not a database" in error[0]
    assert f"python -m llmkit.cache clear --force --dir {cache_dir}" in error[0]
    assert (cache_dir / "cache.db").exists()  # nothing deleted without --force


def test_clear_force_removes_a_corrupt_cache_and_only_its_files(tmp_path: Path) -> None:
    cache_dir = tmp_path / "c"
    cache_dir.mkdir()
    big = CachedAnswer.from_response("b" * 64, CompleteResponse("x" * 100_000, usage=TokenUsage(1, 1)))
    assert ResponseCache(cache_dir).put(big)  # large values live in diskcache's value folders
    value_folders = [p for p in cache_dir.iterdir() if p.is_dir()]
    assert value_folders
    (cache_dir / "notes.txt").write_text("mine")
    (cache_dir / "ab").mkdir()
    (cache_dir / "ab" / "keep.txt").write_text("not a cache value")
    _corrupt_database(cache_dir)
    result = subprocess.run([sys.executable, "-m", "llmkit.cache", "clear", "--force", "--dir", str(cache_dir)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "Removed the unreadable cache" in result.stdout
    assert sorted(p.name for p in cache_dir.iterdir()) == ["ab", "notes.txt"]
    assert not any(folder.exists() for folder in value_folders)
    fresh = ResponseCache(cache_dir)  # the cache works again in the same directory
    assert fresh.put(big) and fresh.get(big.key) == big and fresh.stats().entries == 1


def test_clear_force_on_a_healthy_cache_is_a_normal_clear(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fill(tmp_path)
    assert main(["clear", "--force", "--dir", str(tmp_path)]) == 0
    assert "Removed 3 entries" in capsys.readouterr().out
