"""Sample records on disk: samples/<stem>.npy (and trajectories) with a metrics JSON beside them.
Kept light (no diffrax, no flax): the exported-program path of `sample` writes through it too."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from diffcli.runs import write_json, write_npy
from diffcli.sampling.result import SampleResult

FLOOR_PAIRS = 5  # data-floor pairs printed beside a single sample's scores


@dataclass(frozen=True)
class ScoredSample:
    result: SampleResult
    scores: dict[str, float]  # {metric: value}


def slug(label: str) -> str:
    return re.sub(r"[^A-Za-z0-9.^+-]+", "_", label).strip("_")


def plan_head(plan) -> dict[str, Any]:
    """What a sample record says of its plan (a SolverPlan): solver, label and the plan itself."""
    return {"solver": plan.solver, "label": plan.label(), "plan": plan.record()}


def save_sample(run_dir: Path, stem: str, head: dict[str, Any], seed: int, scored: ScoredSample, extra: dict) -> Path:
    """Write samples/<stem>.npy and the matching metrics JSON (head: plan_head's); return the .npy path."""
    r = scored.result
    out = Path(run_dir) / "samples"
    write_npy(out / f"{stem}.npy", r.samples)
    if r.labels is not None:
        write_npy(out / f"{stem}-labels.npy", r.labels)
    if r.trajectories is not None:
        write_npy(out / f"{stem}-trajectories.npy", r.trajectories)
        write_npy(out / f"{stem}-trajectory-times.npy", r.traj_times)
    write_json(out / f"{stem}.json", {
        **head, "seed": seed,
        "n": int(r.samples.shape[0]), "nfe": r.nfe, "steps": r.steps, "accepted_steps": r.accepted,
        "rejected_steps": r.rejected, "seconds": r.seconds, **scored.scores, **extra,
    })
    return out / f"{stem}.npy"


def finish_sample(run_dir: Path, dataset, result: SampleResult, seed: int, metrics: list[str], head: dict[str, Any],
                  stem: str, weights: str, floor_cache: str, compiles: dict[str, int]):
    """Score a sample against fresh data, beside the data floor, and write its record:
    (ScoredSample, Floor, path of the .npy)."""
    from diffcli.scoring import bandwidth, data_floor, score

    scored = ScoredSample(result, score(dataset, result.samples, seed, metrics, labels=result.labels))
    floor = data_floor(dataset, result.samples.shape[0], FLOOR_PAIRS, metrics, cache=floor_cache)
    floor_keys = {f"floor_{k}": v for k, v in floor.flat().items() if k != "pairs"}
    path = save_sample(run_dir, stem, head, seed, scored, {**floor_keys, "metrics": list(metrics), "compiles": compiles,
                                                          "weights": weights, "mmd_sigma": bandwidth(dataset)})
    return scored, floor, path
