"""Rendering sbatch scripts: header values per cluster profile, and every refusal."""
from __future__ import annotations

import subprocess

import pytest

from norlm.config import load_config
from norlm.hpc.jobs import resolve_job
from norlm.hpc.profile import RenderError, load_profile, parse_time
from norlm.hpc.render import pipeline, render

from tests.conftest import run_norlm


def _sbatch_lines(path):
    return [line.split(" ", 1)[1] for line in path.read_text().splitlines() if line.startswith("#SBATCH ")]


@pytest.fixture
def work(tmp_path, monkeypatch):
    monkeypatch.setenv("NORLM_WORK", str(tmp_path / "work"))
    return tmp_path / "work"


def test_parse_time():
    assert parse_time("00:15:00") == 900
    assert parse_time("7-00:00:00") == 7 * 86400
    assert parse_time("2-04:30") == 2 * 86400 + 4 * 3600 + 30 * 60
    assert parse_time("45:10") == 45 * 60 + 10
    with pytest.raises(RenderError, match="not a Slurm time limit"):
        parse_time("3 days")


def test_saga_bert_train_header_is_the_published_job(work):
    cfg = load_config("configs/norbert1.toml")
    [(job, path)] = render(cfg, "saga", "nn9851k", "bert-train", 1, ["run.seed=7"])
    assert path == work.resolve() / "slurm" / "bert-train-p1.sbatch"
    assert _sbatch_lines(path) == [
        "--job-name=norlm-norbert1-bert-train-p1", "--account=nn9851k", "--partition=accel", "--nodes=4",
        "--ntasks-per-node=4", "--cpus-per-task=6", "--mem-per-cpu=15G", "--gpus-per-node=4",
        "--time=14-00:00:00", f"--output={work.resolve()}/slurm/logs/%x-%j.out", "--signal=USR1@900"]
    text = path.read_text()
    assert "module load NorLM/0.1.0-foss-2024a-CUDA-12.6.0\n" in text
    assert "--phase 1 run.engine=horovod bert.phase1.train_batch_size=48 bert.phase1.accumulation_steps=1 run.seed=7\n" in text
    assert "# Global batch, phase 1: 768 = 16 ranks x 48 per rank x 1 accumulation step(s)" in text
    assert f'export NORLM_WORK="{work.resolve()}"' in text
    assert (job.chain, job.nodes * job.gpus_per_node) == (3, 16)
    assert subprocess.run(["bash", "-n", str(path)]).returncode == 0


def test_puhti_is_retired(work):
    cfg = load_config("configs/smoke.toml")
    with pytest.raises(RenderError, match="Puhti was retired on 2026-07-31; use CLUSTER=roihu"):
        render(cfg, "puhti", "project_2003752", "vocab", 1, [])


def test_puhti_gpu_request_has_type_and_nvme(work):
    cfg = load_config("configs/smoke.toml")
    [(_, path)] = render(cfg, "puhti", "project_2003752", "bert-train", 2, [], allow_retired=True)
    lines = _sbatch_lines(path)
    assert "--partition=gpu" in lines and "--gres=gpu:v100:2,nvme:3600" in lines
    assert "--account=project_2003752" in lines and "--time=02:00:00" in lines
    [(_, cpu_path)] = render(cfg, "puhti", "project_2003752", "vocab", 1, [], allow_retired=True)
    cpu_lines = _sbatch_lines(cpu_path)
    assert "--partition=small" in cpu_lines and not any("gres" in x or "gpus" in x for x in cpu_lines)
    assert "module load NorLM/0.1.0-foss-2024a\n" in cpu_path.read_text()


def test_all_stages_render_and_are_valid_bash(work):
    cfg = load_config("configs/smoke.toml")
    rendered = render(cfg, "saga", "nn1234k", "all", 1, ["run.seed=3"])
    labels = [job.label for job, _ in rendered]
    assert labels == ["corpus", "vocab", "bert-data-p1", "bert-data-p2", "bert-train-p1", "bert-train-p2",
                      "bert-export", "elmo-vocab", "elmo-train", "elmo-export", "evaluate"]
    assert len(pipeline()) == 11
    for _, path in rendered:
        assert subprocess.run(["bash", "-n", str(path)]).returncode == 0, path
        assert "@{" not in path.read_text()
    # deterministic: rendering again gives byte-identical scripts
    before = {p: p.read_bytes() for _, p in rendered}
    render(cfg, "saga", "nn1234k", "all", 1, ["run.seed=3"])
    assert all(p.read_bytes() == b for p, b in before.items())


def test_refuses_missing_or_malformed_account(work):
    cfg = load_config("configs/smoke.toml")
    with pytest.raises(RenderError, match="no account given.*nn9851k"):
        render(cfg, "saga", "", "vocab", 1, [])
    with pytest.raises(RenderError, match="does not look like a puhti project"):
        render(cfg, "puhti", "nn1234k", "vocab", 1, [], allow_retired=True)
    assert not (work / "slurm" / "vocab.sbatch").exists()


def test_refuses_unknown_partition_and_cluster(work):
    cfg = load_config("configs/smoke.toml", ["hpc.bert_train.partition=gpu-huge"])
    with pytest.raises(RenderError, match="unknown partition 'gpu-huge' on saga"):
        render(cfg, "saga", "nn1234k", "bert-train", 1, [])
    with pytest.raises(RenderError, match="no cluster profile 'nosuch'"):
        render(cfg, "nosuch", "x", "vocab", 1, [])


def test_refuses_more_gpus_than_the_nodes_have():
    saga = load_profile("saga")
    cfg = load_config("configs/smoke.toml", ["hpc.bert_train.gpus_per_node=8"])
    with pytest.raises(RenderError, match="8 GPUs per node requested, but its nodes have 4"):
        resolve_job("bert-train", 1, cfg.hpc, saga)
    cfg = load_config("configs/smoke.toml", ["hpc.bert_train.partition=normal"])
    with pytest.raises(RenderError, match="2 GPUs per node requested, but its nodes have 0"):
        resolve_job("bert-train", 1, cfg.hpc, saga)


def test_refuses_jobs_over_partition_limits():
    puhti = load_profile("puhti")
    over_time = load_config("configs/smoke.toml",
                            ["hpc.bert_train.partition=gputest", 'hpc.bert_train.time="00:30:00"'])
    with pytest.raises(RenderError, match="time 00:30:00 is over the partition's limit 00:15:00"):
        resolve_job("bert-train", 1, over_time.hpc, puhti)
    cpus = load_config("configs/smoke.toml", ["hpc.corpus.tasks_per_node=41"])
    with pytest.raises(RenderError, match="41 tasks x 1 CPUs = 41 per node, but its nodes have 40"):
        resolve_job("corpus", None, cpus.hpc, puhti)
    mem = load_config("configs/smoke.toml", ["hpc.vocab.cpus_per_task=40", "hpc.vocab.mem_per_cpu_gb=10"])
    with pytest.raises(RenderError, match="400 GB per node, but its nodes have 373 GB"):
        resolve_job("vocab", None, mem.hpc, puhti)
    with pytest.raises(RenderError, match="needs --phase 1 or 2"):
        resolve_job("bert-data", 3, over_time.hpc, puhti)


def test_cli_exit_code_and_message(tmp_path):
    proc = run_norlm("sbatch", "--config", "configs/smoke.toml", "--cluster", "saga", "--stage", "vocab",
                     work=tmp_path, check=False)
    assert proc.returncode == 2
    assert "no account given" in proc.stderr
    ok = run_norlm("sbatch", "--config", "configs/smoke.toml", "--cluster", "puhti", "--allow-retired",
                   "--account", "project_2003752", "--stage", "bert-data", "--phase", "2", "run.seed=9", work=tmp_path)
    script = tmp_path / "slurm" / "bert-data-p2.sbatch"
    assert f"rendered bert-data-p2: {script}" in ok.stdout
    assert "--phase 2 run.workers=${SLURM_CPUS_PER_TASK:-1}  run.seed=9" in script.read_text()


def test_launcher_lines_follow_the_profile(work):
    cfg = load_config("configs/smoke.toml")
    scripts = {job.label: path.read_text() for job, path in render(cfg, "local", "tests", "all", 1, [])}
    assert "\nsrun --kill-on-bad-exit=1 --mpi=pmix $NORLM corpus " in scripts["corpus"]
    # training ranks stop one by one after SIGUSR1 while rank 0 saves: srun must not kill them
    assert "\nsrun --mpi=pmix $NORLM bert-train " in scripts["bert-train-p1"]
    assert "\n$NORLM vocab " in scripts["vocab"] and "srun" not in scripts["vocab"].split("NORLM=")[1]
    saga = render(cfg, "saga", "nn1234k", "bert-train", 1, [])[0][1].read_text()
    assert "\nsrun $NORLM bert-train " in saga  # the site's default MPI plugin
