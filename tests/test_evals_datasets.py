"""Issue 14, datasets as they come: `prompts: {file | hf, columns, template, limit, shuffle}`, metadata columns as
`meta_<column>`, multi-turn `messages` and `images` rows — through real sweeps on MOCK models and a loopback Ollama."""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

import llmkit.evals as ev
from llmkit.evals.spec import SpecError, load_spec
from tests.servers import OllamaServer

CSV = """qid,question,answer,category
q1,What is 2 + 2?,4,math
q2,What is the capital of France?,Paris,geo
q3,What is 3 * 3?,9,math
q4,What is the capital of Japan?,Tokyo,geo
q5,What is 10 - 7?,3,math
q6,What is the capital of Italy?,Rome,geo
"""
TEMPLATE = "Question: {{ question }}\nAnswer in one word."
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16


def _spec(directory: Path, prompts: Any, **extra: Any) -> Path:
    spec = {"name": "ds", "models": ["oracle:mock"], "prompts": prompts, "scorers": ["contains"],
            "output": str(directory / "runs"), **extra}
    path = directory / "spec.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False), "utf-8")
    return path


def _qa(directory: Path) -> Path:
    path = directory / "qa.csv"
    path.write_text(CSV, "utf-8")
    return path


def test_csv_with_columns_template_limit_and_shuffle_gives_the_documented_rows(tmp_path: Path) -> None:
    _qa(tmp_path)
    prompts = {"file": "qa.csv", "columns": {"id": "qid", "prompt": "question", "expected": "answer"},
               "template": TEMPLATE, "limit": 4, "shuffle": 7}
    result = ev.run(_spec(tmp_path, prompts), progress=False)
    df = result.load()
    assert result.status == "completed" and len(df) == 4
    import random

    order = list(range(6))
    random.Random(7).shuffle(order)  # the documented sampling: Random(seed).shuffle, then the first `limit`
    chosen = [f"q{i + 1}" for i in order[:4]]
    assert list(df["prompt_id"]) == chosen
    source = {row["qid"]: row for row in (dict(zip(CSV.splitlines()[0].split(","), line.split(","), strict=True))
                                          for line in CSV.splitlines()[1:])}
    for _, row in df.iterrows():
        record = source[row["prompt_id"]]
        assert row["prompt"] == f"Question: {record['question']}\nAnswer in one word."
        assert row["expected"] == record["answer"]
        assert row["meta_category"] == record["category"]
    assert "meta_question" not in df.columns and "meta_answer" not in df.columns  # mapped columns are not metadata
    assert set(df.groupby("meta_category").size().index) <= {"math", "geo"}
    again = load_spec(tmp_path / "spec.yaml").prompts  # the same seed chooses the same rows
    assert [p.id for p in again] == chosen
    bigger = load_spec(_spec(tmp_path, {**prompts, "limit": 5})).prompts
    assert [p.id for p in bigger][:4] == chosen  # a larger limit keeps what a smaller one chose


def test_a_parquet_file_loads_with_typed_metadata(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({"question": ["What is 2 + 2?", "What is 5 + 5?"], "answer": [4, 10],
                      "difficulty": [1, 3], "tags": [["easy"], ["easy", "sum"]]})
    pq.write_table(table, tmp_path / "qa.parquet")
    prompts = {"file": "qa.parquet", "columns": {"prompt": "question", "expected": "answer"}}
    df = ev.run(_spec(tmp_path, prompts), progress=False).load()
    assert list(df["prompt_id"]) == ["1", "2"]  # no id column: the position in the file
    assert list(df["prompt"]) == ["What is 2 + 2?", "What is 5 + 5?"]
    assert list(df["meta_difficulty"]) == [1, 3] and list(df["meta_tags"]) == [["easy"], ["easy", "sum"]]
    assert list(df["expected"]) == ["4", "10"]


def test_a_save_to_disk_dataset_loads(tmp_path: Path) -> None:
    datasets = pytest.importorskip("datasets")
    dataset = datasets.Dataset.from_dict({"problem": ["What is 6 * 7?", "What is 1 + 1?", "What is 9 - 4?"],
                                          "solution": ["42", "2", "5"], "level": ["hard", "easy", "easy"]})
    datasets.DatasetDict({"test": dataset}).save_to_disk(str(tmp_path / "gsm-mini"))
    prompts = {"hf": "gsm-mini", "split": "test", "columns": {"expected": "solution"},
               "template": "Solve: {{ problem }}", "limit": 2}
    df = ev.run(_spec(tmp_path, prompts), progress=False).load()
    assert list(df["prompt"]) == ["Solve: What is 6 * 7?", "Solve: What is 1 + 1?"]
    assert list(df["expected"]) == ["42", "2"]
    assert list(df["meta_level"]) == ["hard", "easy"]
    assert list(df["meta_problem"]) == ["What is 6 * 7?", "What is 1 + 1?"]
    with pytest.raises(SpecError, match=r"split: .*test"):
        load_spec(_spec(tmp_path, {**prompts, "split": "train"}))


def _run_cli(spec: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "llmkit.evals", "run", str(spec), "--no-progress"],
                          cwd=spec.parent, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize(("prompts", "fragments"), [
    ({"file": "qa.csv", "template": "Q: {{ questoin }}"},
     ["spec.yaml:5: prompts.template", "'questoin'", "available: qid, question, answer, category"]),
    ({"file": "qa.csv", "columns": {"expected": "anwser"}},
     ["spec.yaml:5: prompts.columns.expected", "'anwser'", "available: qid, question, answer, category"]),
    ({"file": "qa.csv", "template": "{{ question.__class__.__mro__[1].__subclasses__() }}"},
     ["prompts.template", "SecurityError", "unsafe"]),
    ({"file": "qa.csv", "template": "{{ ''.__class__ }}"}, ["prompts.template", "SecurityError"]),
    ({"file": "qa.csv", "template": "{% for x in %}"}, ["prompts.template", "template syntax error"]),
    ({"file": "qa.csv", "hf": "gsm8k"}, ["prompts", "exactly one of file"]),
    ({"file": "qa.csv", "limit": 0}, ["prompts.limit", "greater than or equal to 1"]),
    ({"file": "qa.csv", "colums": {}}, ["spec.yaml:5: prompts: unknown field 'colums'", "template"]),
])
def test_dataset_mistakes_are_one_line_spec_errors(tmp_path: Path, prompts: dict[str, Any],
                                                   fragments: list[str]) -> None:
    _qa(tmp_path)
    spec = tmp_path / "spec.yaml"
    spec.write_text("name: ds\nmodels: [oracle:mock]\nprompts:\n" + "".join(
        f"  {key}: {json.dumps(value)}\n" for key, value in prompts.items()), "utf-8")
    result = _run_cli(spec)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    assert not (tmp_path / "runs").exists()


def test_the_sandbox_refuses_before_anything_runs(tmp_path: Path) -> None:
    _qa(tmp_path)
    escape = "{{ cycler.__init__.__globals__.os.popen('touch " + str(tmp_path / "pwned") + "').read() }}"
    with pytest.raises(SpecError, match="SecurityError"):
        load_spec(_spec(tmp_path, {"file": "qa.csv", "template": escape}))
    assert not (tmp_path / "pwned").exists()


@pytest.fixture
def ollama(loopback: Any, monkeypatch: pytest.MonkeyPatch) -> OllamaServer:
    server: OllamaServer = loopback(OllamaServer)
    monkeypatch.setenv("OLLAMA_HOSTS", server.host)
    return server


def test_a_multi_turn_row_sends_its_whole_history(tmp_path: Path, ollama: OllamaServer) -> None:
    rows = [
        {"id": "chat", "messages": [
            {"role": "system", "content": "You are terse."},
            {"role": "user", "content": "My name is Ada."},
            {"role": "assistant", "content": "Hello Ada."},
            {"role": "user", "content": "What is my name?"}], "expected": "Ada", "topic": "memory"},
        {"id": "single", "prompt": "Say hi", "topic": "greeting"},
    ]
    (tmp_path / "chat.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), "utf-8")
    spec = _spec(tmp_path, "chat.jsonl", models=[f"llama3.2:latest:ollama@{ollama.host}"])
    df = ev.run(spec, progress=False).load().set_index("prompt_id")
    assert df.loc["chat", "prompt"] == "What is my name?" and df.loc["chat", "output"] == "Echo: What is my name?"
    assert df.loc["chat", "meta_topic"] == "memory"
    bodies = {b["messages"][-1]["content"]: b for b in (r.json for r in ollama.requests_to("/api/chat"))}
    assert [(m["role"], m["content"]) for m in bodies["What is my name?"]["messages"]] == [
        ("system", "You are terse."), ("user", "My name is Ada."), ("assistant", "Hello Ada."),
        ("user", "What is my name?")]
    assert [m["role"] for m in bodies["Say hi"]["messages"]] == ["user"]


def test_an_images_column_reaches_a_vision_model(tmp_path: Path, ollama: OllamaServer) -> None:
    (tmp_path / "img").mkdir()
    (tmp_path / "img" / "a.png").write_bytes(PNG)
    (tmp_path / "vision.csv").write_text("id,prompt,images\nv1,What is in the picture?,img/a.png\n", "utf-8")
    spec = _spec(tmp_path, {"file": "vision.csv"}, models=[f"llava:latest:ollama@{ollama.host}"])
    df = ev.run(spec, progress=False).load()
    assert df["error_type"].isna().all() and list(df["output"]) == ["Echo: What is in the picture?"]
    sent = ollama.requests_to("/api/chat")[-1].json["messages"][-1]
    assert sent["images"] == [base64.b64encode(PNG).decode("ascii")]
    (tmp_path / "vision.csv").write_text("id,prompt,images\nv1,What?,img/missing.png\n", "utf-8")
    with pytest.raises(SpecError, match=r"vision\.csv:2: image 'img/missing\.png' is not a file"):
        load_spec(spec)


def test_resume_keeps_messages_and_metadata(tmp_path: Path) -> None:
    rows = [{"id": "c", "messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"},
                                     {"role": "user", "content": "c?"}], "level": 2}]
    (tmp_path / "chat.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), "utf-8")
    result = ev.run(_spec(tmp_path, "chat.jsonl"), progress=False)
    saved = [json.loads(line) for line in (result.run_dir / "prompts.jsonl").read_text().splitlines()]
    assert saved[0]["messages"][1] == {"role": "assistant", "content": "b"} and saved[0]["metadata"] == {"level": 2}
    resumed = ev.run(resume=result.run_dir, progress=False)
    assert resumed.status == "completed" and resumed.plan.prompts[0].messages == result.plan.prompts[0].messages


@pytest.mark.parametrize("template", [
    "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
    "{{ 'x' * 1000000000 }}",
    "{{ 2 ** 100000000 }}",
    "{% for i in range(90000) %}{{ question }}{% endfor %}",
])
def test_templates_cannot_hang_or_fill_memory(tmp_path: Path, template: str) -> None:
    _qa(tmp_path)
    with pytest.raises(SpecError, match="SecurityError: the template"):
        load_spec(_spec(tmp_path, {"file": "qa.csv", "template": template}))


@pytest.mark.parametrize(("name", "content", "fragment"), [
    ("long.csv", "id,prompt\n1," + "x" * 200_000 + "\n", "long.csv:2: cannot read this CSV line"),
    ("deep.jsonl", '{"prompt": ' + "[" * 100_000 + "]" * 100_000 + "}\n", "deep.jsonl:1: JSON nested too deeply"),
    ("wide.csv", "id,prompt\n1,hi,extra\n", "wide.csv:2: 1 more field(s) than the header's 2 columns"),
])
def test_malformed_data_files_are_spec_errors(tmp_path: Path, name: str, content: str, fragment: str) -> None:
    (tmp_path / name).write_text(content, "utf-8")
    with pytest.raises(SpecError, match=re.escape(fragment)):
        load_spec(_spec(tmp_path, name))


def test_the_example_trivia_spec_runs_and_groups_by_metadata(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[1]
    result = ev.run(root / "evals" / "trivia.yaml", output=tmp_path / "runs", progress=False)
    df = result.load()
    assert result.status == "completed" and len(df) == 3 * 12
    assert df["prompt"].str.startswith("Answer the ").all() and df["meta_difficulty"].notna().all()
    oracle = df[df["model"] == "oracle:mock"].groupby("meta_category")["score_contains"].mean()
    assert oracle["geography"] == 1.0 and oracle["history"] == 0.0
