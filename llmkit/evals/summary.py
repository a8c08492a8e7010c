"""Running totals per model × config, kept while rows stream to disk (no DataFrame, memory stays flat), and
the plain-text table `run` prints at the end."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from llmkit.evals.columns import ANSWERED_ELSEWHERE
from llmkit.models import same_model


def _known(value: Any) -> bool:
    """A cost that is known: not None (unpriced model) and not NaN (the same, read back from a DataFrame)."""
    return value is not None and value == value


@dataclass
class Tally:
    asked: str = ""  # the model name the calls send, to tell the rows another model answered (empty: not checked)
    rows: int = 0
    errors: int = 0
    cached: int = 0
    cost_usd: Decimal = Decimal(0)
    saved_usd: Decimal = Decimal(0)
    unpriced: int = 0  # answered rows whose model has no known price: left out of cost_usd, never counted as $0
    judge_usd: Decimal = Decimal(0)  # model-graded scorers' calls (known prices), apart from the models' cost
    latency_sum: float = 0.0
    latency_n: int = 0
    output_tokens: int = 0
    score_sum: dict[str, float] = field(default_factory=dict)
    score_n: dict[str, int] = field(default_factory=dict)  # answered rows with a score
    score_failed: dict[str, int] = field(default_factory=dict)  # error rows: a 0 unless errors are excluded
    served_by: dict[str, int] = field(default_factory=dict)  # another model that answered -> its rows

    def score_mean(self, key: str, exclude_errors: bool = False) -> float | None:
        """The mean of a score column under the report's rule (`llmkit.evals.columns.scored`)."""
        n = self.score_n.get(key, 0) + (0 if exclude_errors else self.score_failed.get(key, 0))
        return self.score_sum.get(key, 0.0) / n if n else None

    def add(self, row: Mapping[str, Any]) -> None:
        self.rows += 1
        if row.get("error_type"):
            self.errors += 1
        if row.get("cached"):
            self.cached += 1
        cost, saved = row.get("cost_usd", 0), row.get("saved_cost_usd", 0)
        if not _known(cost):
            self.unpriced += 1
        self.cost_usd += Decimal(str(cost or 0)) if _known(cost) else Decimal(0)
        self.saved_usd += Decimal(str(saved or 0)) if _known(saved) else Decimal(0)
        judge = row.get("judge_cost_usd")
        self.judge_usd += Decimal(str(judge)) if _known(judge) else Decimal(0)
        latency = row.get("latency_s")
        if latency is not None and not row.get("error_type"):
            self.latency_sum += float(latency)
            self.latency_n += 1
        self.output_tokens += int(row.get("output_tokens") or 0)
        served = row.get("served_model")
        if self.asked and isinstance(served, str) and served and not same_model(self.asked, served):
            self.served_by[served] = self.served_by.get(served, 0) + 1
        for key, value in row.items():
            if not key.startswith("score_") or key == "score_error":
                continue
            if row.get("error_type"):
                self.score_failed[key] = self.score_failed.get(key, 0) + 1
            elif value is not None and value == value:  # not None, not NaN
                self.score_sum[key] = self.score_sum.get(key, 0.0) + float(value)
                self.score_n[key] = self.score_n.get(key, 0) + 1


@dataclass
class RunSummary:
    """What a finished (or stopped) run did; `status` is completed, budget, interrupted."""

    run_id: str
    run_dir: str
    status: str
    planned_rows: int
    tallies: dict[tuple[str, str], Tally] = field(default_factory=dict)
    not_run: int = 0
    message: str | None = None
    exclude_errors: bool = False  # the spec's rule for score means (default: an error row scores 0)

    def add(self, row: Mapping[str, Any]) -> None:
        self.tallies.setdefault((row["model"], row["config_label"]), Tally()).add(row)

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tallies.values())

    @property
    def errors(self) -> int:
        return sum(t.errors for t in self.tallies.values())

    @property
    def cost_usd(self) -> Decimal:
        """The known part of the cost; `unpriced_models` names the models whose cost is unknown."""
        return sum((t.cost_usd for t in self.tallies.values()), Decimal(0))

    @property
    def unpriced_models(self) -> list[str]:
        return list(dict.fromkeys(m for (m, _), t in self.tallies.items() if t.unpriced))

    def served_elsewhere(self) -> dict[tuple[str, str], int]:
        """(model asked for, model that answered) -> rows, over every config: where a gateway fell back or a retired
        model was routed on (`llmkit.models.same_model` tells a snapshot of the same model from another model)."""
        found: dict[tuple[str, str], int] = {}
        for (model, _), t in self.tallies.items():
            for served, n in t.served_by.items():
                found[(model, served)] = found.get((model, served), 0) + n
        return found

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status, "planned_rows": self.planned_rows, "rows": self.rows, "errors": self.errors,
            "not_run": self.not_run, "cost_usd": str(self.cost_usd), "unpriced_models": self.unpriced_models,
            "judge_cost_usd": str(sum((t.judge_usd for t in self.tallies.values()), Decimal(0))),
            "message": self.message,
            "per_variant": [
                {"model": m, "config_label": c, "rows": t.rows, "errors": t.errors, "cached": t.cached,
                 "cost_usd": None if t.unpriced else str(t.cost_usd), "saved_cost_usd": str(t.saved_usd),
                 "served_by": dict(t.served_by)}
                for (m, c), t in self.tallies.items()
            ],
        }

    def table(self) -> str:
        """A fixed-width table: one line per model × config."""
        score_keys = sorted({k for t in self.tallies.values() for k in [*t.score_n, *t.score_failed]})
        header = ["model", "config", "rows", "errors", "cached", "mean_latency_s", "cost_usd",
                  *[k.removeprefix("score_") for k in score_keys]]
        lines = [header]
        for (model, label), t in self.tallies.items():
            latency = f"{t.latency_sum / t.latency_n:.3f}" if t.latency_n else "-"
            means = [t.score_mean(k, self.exclude_errors) for k in score_keys]
            scores = ["-" if mean is None else f"{mean:.3f}" for mean in means]
            lines.append([model, label, str(t.rows), str(t.errors), str(t.cached), latency,
                          "unknown" if t.unpriced else f"{t.cost_usd:.6f}", *scores])
        widths = [max(len(r[i]) for r in lines) for i in range(len(header))]
        return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip()
                         for r in lines)

    def text(self) -> str:
        head = (f"{self.status}: {self.rows}/{self.planned_rows} rows, {self.errors} errors, "
                f"cost ${self.cost_usd:.6f}")
        judges = sum((t.judge_usd for t in self.tallies.values()), Decimal(0))
        if judges:
            head += f", judges ${judges:.6f}"
        if self.not_run:
            head += f", {self.not_run} not run"
        parts = [head]
        if self.unpriced_models:
            parts.append(f"no price known for {', '.join(self.unpriced_models)}: their cost is unknown and not in "
                         "the total (set LLMConfig.pricing, or install llmkit[prices])")
        elsewhere = self.served_elsewhere()
        if elsewhere:
            rows_of: dict[str, int] = {}
            for (model, _), t in self.tallies.items():
                rows_of[model] = rows_of.get(model, 0) + t.rows
            named = "; ".join(f"{model}: {n} of {rows_of[model]} rows by {served}"
                              for (model, served), n in elsewhere.items())
            parts.append(f"{ANSWERED_ELSEWHERE}: {named}")
        if self.message:
            parts.append(self.message)
        if self.tallies:
            if any(t.score_n or t.score_failed for t in self.tallies.values()):
                from llmkit.evals.columns import score_rule

                parts.append(f"scores: {score_rule(self.exclude_errors)}")
            parts.append(self.table())
        return "\n".join(parts)
