"""`--mlflow`: a run logged to a local MLflow store, read back with MlflowClient."""

from __future__ import annotations

from pathlib import Path

import pytest
from evals_helpers import write_spec

from llmkit.cli import main

mlflow = pytest.importorskip("mlflow")  # the optional `mlflow` extra (part of `all` and `dev`)


@pytest.fixture(autouse=True)
def _local_mlflow(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("MLFLOW_ALLOW_FILE_STORE", raising=False)
    monkeypatch.chdir(tmp_path)


def test_run_with_mlflow_logs_params_metrics_and_artifacts_to_local_mlruns(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from mlflow import MlflowClient

    spec = write_spec(tmp_path, models=["echo:mock", "oracle:mock"], configs=[{"label": "default"}])
    assert main(["run", str(spec), "--no-progress", "--mlflow"]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("mlflow: "))
    uri, _, run_id = line.removeprefix("mlflow: ").partition(" run ")
    assert uri == (tmp_path / "mlruns").as_uri() and (tmp_path / "mlruns").is_dir()
    client = MlflowClient(uri)
    run = client.get_run(run_id)
    assert run.data.params["name"] == "t" and run.data.params["repeats"] == "2" and run.data.params["prompts"] == "5"
    metrics = run.data.metrics
    assert metrics["oracle:mock/default/contains_mean"] == 1.0
    assert metrics["echo:mock/default/contains_mean"] == 0.0
    assert metrics["oracle:mock/default/error_rate"] == 0.0 and metrics["oracle:mock/default/n"] == 10
    assert metrics["oracle:mock/default/total_cost_usd"] > 0
    artifacts = {a.path for a in client.list_artifacts(run_id, "report")} | {
        a.path for a in client.list_artifacts(run_id, "run")}
    assert {"report/report.html", "report/summary.csv", "run/rows.jsonl", "run/run.json"} <= artifacts
    assert client.get_experiment(run.info.experiment_id).name == "llmkit/t"


def test_report_mlflow_to_a_given_uri(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from mlflow import MlflowClient

    spec = write_spec(tmp_path, models=["oracle:mock"], configs=[{"label": "default"}], repeats=1)
    assert main(["run", str(spec), "--no-progress"]) == 0
    run_dir = next((tmp_path / "runs").iterdir())
    store = (tmp_path / "elsewhere").as_uri()
    assert main(["report", str(run_dir), "--no-figures", "--mlflow", store]) == 0
    run_id = capsys.readouterr().out.rsplit(" run ", 1)[1].strip()
    assert MlflowClient(store).get_run(run_id).data.metrics["oracle:mock/default/numeric_mean"] == 1.0
