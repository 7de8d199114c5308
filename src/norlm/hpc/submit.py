"""Submit rendered job scripts with sbatch, wired together in pipeline order.

Dependencies are `afterok` between stages.  A job-array stage gets a follow-up job (array size
1) that finishes the stage; a training stage with `chain = N` gets N follow-up jobs joined by
`afterany`, each resuming from the newest checkpoint, and later stages wait for the last one.
"""
from __future__ import annotations

import subprocess
from pathlib import Path

from norlm.errors import StageFailure
from norlm.files import read_json, write_json
from norlm.hpc.jobs import Job
from norlm.stages import needs as stage_needs



class SubmitError(StageFailure, RuntimeError):
    """sbatch refused a job; the message has sbatch's own words."""


def sbatch(script: Path, *options: str) -> str:
    """Submit `script`; return the job id."""
    cmd = ["sbatch", "--parsable", *options, str(script)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    except FileNotFoundError:
        raise SubmitError("sbatch not found: submit on a Slurm login node "
                          "(or start recipes/local/cluster.sh)") from None
    if proc.returncode != 0:
        raise SubmitError(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr.strip()}")
    return proc.stdout.strip().split(";")[0]


def submit_job(job: Job, script: Path, after: list[str]) -> list[str]:
    """Submit one stage: its job, an array's finishing job, and a training chain's follow-ups."""
    deps = [f"--dependency=afterok:{':'.join(after)}"] if after else []
    chained = job.chain > 0
    first = sbatch(script, *deps, *(["--export=ALL,NORLM_CHAIN_LAST=0"] if chained else []))
    ids = [first]
    if job.array > 1:
        ids.append(sbatch(script, "--array=0-0", f"--dependency=afterok:{first}"))
    for link in range(1, job.chain + 1):
        last = "1" if link == job.chain else "0"
        ids.append(sbatch(script, f"--dependency=afterany:{ids[-1]}", f"--export=ALL,NORLM_CHAIN_LAST={last}"))
    return ids


def submit_pipeline(rendered: list[tuple[Job, Path]], out_dir: Path, after: list[str] = ()) -> dict[str, list[str]]:
    """Submit in order; a job waits (afterok) for the last job of every stage it needs."""
    final: dict[tuple[str, int | None], str] = {}
    submitted: dict[str, list[str]] = {}
    record_path = out_dir / "jobs.json"
    record = read_json(record_path) if record_path.exists() else {}
    for job, script in rendered:
        needs = [final[key] for key in stage_needs(job.stage, job.phase) if key in final]
        ids = submit_job(job, script, list(after) + needs)
        final[(job.stage, job.phase)] = ids[-1]
        submitted[job.label] = ids
        record[job.label] = {"jobs": ids, "script": str(script)}
        write_json(record_path, record)
    return submitted
