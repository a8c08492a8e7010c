"""Issue 16.8: hostile input to `python -m llmkit.evals run` ends with exit 2 and one line on stderr — never a
traceback, a hang or a half-made run directory. Each case runs the real CLI in a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from llmkit import ConfigValidationError, LLMConfig

SPEC = {"name": "hostile", "models": ["echo:mock"], "prompts": [{"id": "p1", "prompt": "hi"}]}


def _write(path: Path, spec: dict[str, object]) -> Path:
    path.write_text(yaml.safe_dump(spec, sort_keys=False), "utf-8")
    return path


def _run(spec: Path, cwd: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([sys.executable, "-m", "llmkit.evals", "run", str(spec), "--no-progress", *extra],
                            cwd=cwd, capture_output=True, text=True, timeout=60)
    return result


def _assert_usage_error(result: subprocess.CompletedProcess[str], *fragments: str) -> str:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def test_lone_surrogate_in_jsonl_is_a_spec_error_and_leaves_no_run_directory(tmp_path: Path) -> None:
    prompts = tmp_path / "p.jsonl"
    prompts.write_text('{"id": "a", "prompt": "fine"}\n{"id": "b", "prompt": "bad \\ud800 text"}\n', "utf-8")
    spec = _write(tmp_path / "s.yaml", {**SPEC, "prompts": "p.jsonl", "output": str(tmp_path / "runs")})
    line = _assert_usage_error(_run(spec, tmp_path), "p.jsonl:2", "surrogate", "U+D800")
    assert "'prompt'" in line
    assert not (tmp_path / "runs").exists()


def test_concurrency_zero_is_a_line_accurate_spec_error(tmp_path: Path) -> None:
    spec = tmp_path / "s.yaml"
    spec.write_text("name: hostile\nmodels: [echo:mock]\nprompts: [{id: p1, prompt: hi}]\nconcurrency: 0\n")
    _assert_usage_error(_run(spec, tmp_path), "s.yaml:4", "concurrency", "greater than or equal to 1")


def test_per_model_concurrency_zero_is_a_spec_error(tmp_path: Path) -> None:
    spec = _write(tmp_path / "s.yaml", {**SPEC, "concurrency": {"per_model": {"echo:mock": 0}}})
    _assert_usage_error(_run(spec, tmp_path), "concurrency.per_model", "greater than or equal to 1")


def test_non_utf8_spec_names_the_line(tmp_path: Path) -> None:
    spec = tmp_path / "s.yaml"
    spec.write_bytes(b"name: hostile\nmodels: [echo:mock]\ndescription: caf\xe9\nprompts: [{prompt: hi}]\n")
    _assert_usage_error(_run(spec, tmp_path), "s.yaml:3", "not UTF-8", "0xe9")


def test_non_utf8_prompt_file_names_the_line(tmp_path: Path) -> None:
    (tmp_path / "p.csv").write_bytes(b"id,prompt\n1,hello\n2,caf\xe9\n")
    spec = _write(tmp_path / "s.yaml", {**SPEC, "prompts": "p.csv"})
    _assert_usage_error(_run(spec, tmp_path), "p.csv:3", "not UTF-8")


def test_output_under_a_regular_file(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("not a directory")
    spec = _write(tmp_path / "s.yaml", {**SPEC, "output": str(tmp_path / "afile" / "runs")})
    _assert_usage_error(_run(spec, tmp_path), "cannot create the run directory", "--output")


def test_yaml_nested_5000_deep(tmp_path: Path) -> None:
    spec = tmp_path / "s.yaml"
    spec.write_text("name: hostile\nmodels: [echo:mock]\nprompts: [{prompt: hi}]\ndescription: "
                    + "[" * 5000 + "]" * 5000 + "\n")
    _assert_usage_error(_run(spec, tmp_path), "s.yaml:4", "nested more than")


def test_yaml_alias_bomb_is_refused_quickly(tmp_path: Path) -> None:
    lines = ["name: hostile", "models: [echo:mock]", "prompts: [{prompt: hi}]", 'a: &a ["lol","lol","lol","lol",'
             '"lol","lol","lol","lol","lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [{', '.join(['*' + prev] * 9)}]")
    spec = tmp_path / "s.yaml"
    spec.write_text("\n".join(lines) + "\n")
    assert spec.stat().st_size < 1000  # 9**9 strings once expanded
    _assert_usage_error(_run(spec, tmp_path), "s.yaml:", "aliases expand to more than")


def test_recursive_alias_is_refused(tmp_path: Path) -> None:
    spec = tmp_path / "s.yaml"
    spec.write_text("name: hostile\nmodels: [echo:mock]\nprompts: [{prompt: hi}]\ndescription: &a [*a]\n")
    _assert_usage_error(_run(spec, tmp_path), "s.yaml:4", "recursive")


def test_oversized_spec_is_refused_before_parsing(tmp_path: Path) -> None:
    spec = tmp_path / "s.yaml"
    spec.write_text("name: hostile\nmodels: [echo:mock]\nprompts: [{prompt: hi}]\n" + "# padding\n" * 300_000)
    _assert_usage_error(_run(spec, tmp_path), "larger than", "data file")


def test_merge_keys_and_small_aliases_still_work(tmp_path: Path) -> None:
    spec = tmp_path / "s.yaml"
    spec.write_text("name: merge\nmodels: [echo:mock]\nprompts: [{id: p, prompt: hi}]\n"
                    "configs:\n  - &cold {label: cold, temperature: 0.1}\n  - {<<: *cold, label: warm}\n"
                    f"output: {tmp_path / 'runs'}\n")
    result = _run(spec, tmp_path)
    assert result.returncode == 0, result.stderr
    manifest = json.loads(next((tmp_path / "runs").glob("*/run.json")).read_text())
    assert [v["config_label"] for v in manifest["variants"]] == ["cold", "warm"]


def test_llmconfig_bad_value_raises_config_validation_error() -> None:
    with pytest.raises(ConfigValidationError, match="temperature") as info:
        LLMConfig(temperature=5.0)
    assert info.value.key == "temperature"
    assert "LLMConfig fields are" in str(info.value)
    with pytest.raises(ConfigValidationError, match="temprature"):
        LLMConfig(temprature=0.5)  # type: ignore[call-arg]
    assert LLMConfig(temperature=1.5).temperature == 1.5


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_an_endless_spec_source_is_read_only_up_to_the_bound(tmp_path: Path) -> None:
    _assert_usage_error(_run(Path("/dev/zero"), tmp_path), "/dev/zero", "larger than")
