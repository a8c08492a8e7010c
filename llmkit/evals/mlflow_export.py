"""`--mlflow [URI]`: log a run to MLflow — the spec as params, per model × config metrics, the report and rows as
artifacts. One MLflow run per llmkit run (named by its run id) in the experiment named after the spec.

Default tracking URI: $MLFLOW_TRACKING_URI, else a local `./mlruns` file store. MLflow ≥ 3 refuses new file stores
unless MLFLOW_ALLOW_FILE_STORE=true, so that is set for the local default; MLflow's usage telemetry is off unless
the user turned it on (llmkit sends nothing anywhere the user did not name).
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from llmkit import settings
from llmkit.errors import ConfigurationError

METRICS = ["n", "errors", "error_rate", "latency_p50_s", "latency_p95_s", "ttft_p50_s", "total_cost_usd",
           "list_cost_usd", "cost_per_1k_usd", "projected_cost_usd", "saved_cost_usd"]


def _flatten(prefix: str, value: Any, out: dict[str, str]) -> None:
    if isinstance(value, Mapping):
        for key, item in value.items():
            _flatten(f"{prefix}.{key}" if prefix else str(key), item, out)
    elif isinstance(value, list) and prefix != "prompts":
        out[prefix] = json.dumps(value, default=str)[:6000]
    elif prefix != "prompts":
        out[prefix] = str(value)[:6000]


def _key(text: str) -> str:
    """MLflow metric keys allow alphanumerics, _ - . / spaces, and colons except on Windows."""
    return re.sub(r"[^\w\-./ ]" if os.name == "nt" else r"[^\w\-./ :]", "_", text)


def spec_params(manifest: Mapping[str, Any]) -> dict[str, str]:
    spec = manifest.get("spec") or {}
    params: dict[str, str] = {}
    _flatten("", {k: v for k, v in spec.items() if k != "prompts"}, params)
    prompts = spec.get("prompts")
    params["prompts"] = str(len(prompts)) if isinstance(prompts, list) else str(prompts)
    params["llmkit_version"] = str(manifest.get("llmkit_version"))
    return params


def variant_metrics(summary: Any) -> dict[str, float]:
    """`<model>/<config>/<metric>` for every summary number that is known (NaN is left out, not logged as 0)."""
    metrics: dict[str, float] = {}
    scores = [c for c in summary.columns if c.endswith(("_mean", "_ci_low", "_ci_high"))
              and not c.startswith(("latency", "ttft", "input_", "output_", "reasoning_"))]
    for _, row in summary.iterrows():
        for column in [*METRICS, *scores]:
            if column in summary.columns:
                value = float(row[column])
                if not math.isnan(value):
                    metrics[_key(f"{row['model']}/{row['config_label']}/{column}")] = value
    return metrics


def _mlflow(tracking_uri: str | None) -> tuple[Any, str]:
    settings.set_default("MLFLOW_DISABLE_TELEMETRY", "true")
    uri = tracking_uri or settings.value("MLFLOW_TRACKING_URI") or (Path.cwd() / "mlruns").resolve().as_uri()
    if uri.startswith("file:") or "://" not in uri:
        settings.set_default("MLFLOW_ALLOW_FILE_STORE", "true")
    try:
        import mlflow
    except ImportError:
        raise ConfigurationError("--mlflow needs MLflow; install it with: pip install 'llmkit[mlflow]'") from None
    return mlflow, uri


def export_run(run_dir: str | Path, tracking_uri: str | None = None, report: Any = None) -> str:
    """Log the run (building its report if not given) and return `<tracking uri> run <mlflow run id>`."""
    from llmkit.evals.report import build_report

    run_path = Path(run_dir)
    report = report or build_report(run_path)
    mlflow, uri = _mlflow(tracking_uri)
    mlflow.set_tracking_uri(uri)
    name = str((report.manifest.get("spec") or {}).get("name") or "llmkit")
    mlflow.set_experiment(f"llmkit/{name}")
    run_id = str(report.manifest.get("run_id", run_path.name))
    with mlflow.start_run(run_name=run_id, tags={"llmkit.run_id": run_id,
                                                 "llmkit.status": str(report.manifest.get("status"))}) as active:
        mlflow.log_params(spec_params(report.manifest))
        mlflow.log_metrics(variant_metrics(report.summary))
        for path in report.files:
            mlflow.log_artifact(str(path), artifact_path="report")
        for name in ("rows.jsonl", "run.json"):
            if (run_path / name).exists():
                mlflow.log_artifact(str(run_path / name), artifact_path="run")
        return f"{uri} run {active.info.run_id}"
