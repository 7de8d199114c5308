"""The Olivia, Roihu and LUMI job scripts, rendered unchanged, run on the local test Slurm end to end on
the smoke config (corpus -> vocab -> bert-data -> bert-train on 2 tasks, chained with afterok) with
stub `apptainer`/`singularity` and a stub `module` that log their arguments and run the payload:
each profile's image, binds, modules, collective variables and engine are what the stubs saw.

Not tested here: real images (no Apptainer on this machine), GH200 / MI250X GPUs, NCCL/RCCL."""
from __future__ import annotations

import getpass
import json
import re
from pathlib import Path

import pytest

from tests.conftest import REPO, run_norlm
from tests.hpc.stubbed import StubLog, stub_env
from tests.hpc.test_slurm import DONE, wait_for

pytestmark = pytest.mark.slow

# a tiny BERT and a few steps
BERT = ["bert.model_config=configs/bert/smoke.json", "bert.phase1.train_batch_size=4", "bert.phase1.train_steps=4",
        "bert.console_steps=1", "bert.display_loss_steps=1", "bert.save_checkpoints_steps=1000"]
ACCOUNTS = {"olivia": "nn1234k", "roihu": "project_2001234", "lumi": "project_465000157"}
ENGINES = {"olivia": "tf-distribute", "roihu": "tf-distribute", "lumi": "horovod"}
STAGES = ("corpus", "vocab", "bert-data-p1", "bert-train-p1")


def _stage(label: str) -> str:
    return label.rsplit("-p", 1)[0]


def _states(slurm) -> dict[str, dict[str, str]]:
    """Every job the controller still knows, by id (finished jobs are kept for MinJobAge = 600 s)."""
    out = slurm.run("scontrol", "show", "job", "-o", check=False).stdout
    jobs = {}
    for line in out.splitlines():
        fields = dict(item.split("=", 1) for item in line.split() if "=" in item)
        if "JobId" in fields:
            jobs[fields["JobId"]] = fields
    return jobs


@pytest.fixture(scope="module")
def runs(slurm, tmp_path_factory):
    """Each cluster's four jobs as one afterok chain, the three chains side by side; every job's final
    state is kept as it ends.  A chain stops at its first failed job."""
    root = tmp_path_factory.mktemp("clusters")
    env = stub_env(slurm.env, root)
    jobs: dict[tuple[str, str], str] = {}
    chains: dict[str, list[str]] = {cluster: [] for cluster in ACCOUNTS}
    final: dict[str, dict[str, str]] = {}

    def settled() -> bool:
        for job_id, state in _states(slurm).items():
            if state["JobState"] in DONE:
                final.setdefault(job_id, state)
        return all(all(j in final for j in chain) or any(final.get(j, {}).get("JobState", "COMPLETED") != "COMPLETED"
                                                          for j in chain) for chain in chains.values())

    try:
        for cluster, chain in chains.items():
            work = root / cluster / "work"
            job_env = dict(env, NORLM_WORK=str(work), NORLM_STUB_LOG=str(root / cluster / "stubs.log"))
            for label in STAGES:
                out = run_norlm("sbatch", "--config", "configs/smoke.toml", "--cluster", cluster, "--account",
                                ACCOUNTS[cluster], "--stage", _stage(label), "--phase", "1", *BERT, "--submit",
                                *(["--after", chain[-1]] if chain else []), env=job_env).stdout
                [job_id] = re.search(rf"submitted {label}: job (\d+)", out).groups()
                jobs[(cluster, label)] = job_id
                chain.append(job_id)
        wait_for(settled, 1800, "the three clusters' jobs", every=2)
    finally:
        left = [j for chain in chains.values() for j in chain if j not in final]
        if left:
            slurm.run("scancel", *left, check=False)
    return root, jobs, final


def _log(root: Path, cluster: str, label: str, job_id: str) -> str:
    path = root / cluster / "work" / "slurm" / "logs" / f"norlm-smoke-{label}-{job_id}.out"
    return path.read_text() if path.exists() else ""


def _completed(runs, cluster):
    root, jobs, final = runs
    for label in STAGES:
        job_id = jobs[(cluster, label)]
        job = final.get(job_id, {"JobState": "never ran", "ExitCode": "-"})
        assert (job["JobState"], job["ExitCode"]) == ("COMPLETED", "0:0"), (
            f"{cluster} {label}: {job['JobState']}\n" + _log(root, cluster, label, job_id)[-4000:])
    return root, jobs


def _bert_train_ran(root: Path, cluster: str, jobs) -> str:
    work = root / cluster / "work"
    assert (work / "bert" / "phase1" / "final.json").exists()
    run = json.loads((work / "bert" / "phase1" / "run-bert-train.json").read_text())
    assert run["workers"] == 2
    log = _log(root, cluster, "bert-train-p1", jobs[(cluster, "bert-train-p1")])
    assert "global batch 8 (4 x 1 x 2)" in log and "step 4/4" in log
    return log


def _payload(cluster: str, work: Path, label: str) -> str:
    stage = _stage(label)
    phase = " --phase 1" if label.endswith("-p1") else ""
    return f'python -m norlm {stage} --config {REPO / "configs" / "smoke.toml"}{phase}'


def test_olivia_apptainer_with_host_nccl_and_tf_distribute(runs):
    root, jobs = _completed(runs, "olivia")
    work = (root / "olivia" / "work").resolve()
    log = _bert_train_ran(root, "olivia", jobs)
    assert re.search(r"account nn1234k, partition accel, GPUs on this node: \d+,\d+\n", log)  # 2 fake GPUs
    stubs = StubLog.read(root / "olivia" / "stubs.log")
    # modules: only the GPU job loads any (for the host NCCL the image binds)
    assert stubs.calls("module") == [["--quiet purge"], ["load NRIS/GPU NCCL/2.22.3-GCCcore-13.3.0-CUDA-12.6.0"],
                                     ["list"]]
    calls = stubs.calls("apptainer")
    assert not stubs.calls("singularity")
    host = root / "host"
    images = root / "images"
    cpu = [c for c in calls if c[1] == ""]
    gpu = [c for c in calls if c[1] == "--nv"]
    # corpus (2 ranks), vocab (the batch shell), bert-data (1 rank) on the x86_64 CPU image, no GPU binds
    assert sorted(c[0] for c in cpu) == ["0", "0", "0", "1"]  # vocab runs in the batch shell (SLURM_PROCID 0)
    for rank, _, binds, image, ld_path, _, payload in cpu:
        assert binds == f"{REPO},{work},/cluster" and image == f"{images}/norlm-ngc-tf-x86_64.sif"
        assert payload.startswith("python -m norlm ")
    assert sorted(c[0] for c in gpu) == ["0", "1"]  # one bert-train rank per GPU
    for rank, _, binds, image, ld_path, collective, payload in gpu:
        assert binds == (f"{REPO},{work},/cluster,{host}/nccl/2.22.3/lib:/opt/host/nccl,"
                         f"{host}/aws-ofi-nccl/1.14.0/lib:/opt/host/aws-ofi-nccl,"
                         "/opt/cray/libfabric/2.3.1/lib64:/opt/host/libfabric,"
                         "/usr/lib64/libcxi.so.1:/opt/host/cxi/libcxi.so.1")
        assert image == f"{images}/norlm-ngc-tf-arm64.sif"
        assert ld_path.startswith("/opt/host/aws-ofi-nccl:/opt/host/nccl:/opt/host/libfabric:/opt/host/cxi:")
        assert collective.split() == ["FI_CXI_STUB_FROM_NCCL_MODULE=1", "FI_MR_CACHE_MONITOR=userfaultfd",
                                      "NCCL_CROSS_NIC=1", "NCCL_NET_GDR_LEVEL=PHB", "NCCL_PROTO=^LL128",
                                      "NCCL_SOCKET_IFNAME=hsn0,hsn1,hsn2,hsn3"]
        assert payload.startswith(_payload("olivia", work, "bert-train-p1") + " run.engine=tf-distribute ")


def test_roihu_site_module_extras_installed_once_and_tf_distribute(runs):
    root, jobs = _completed(runs, "roihu")
    log = _bert_train_ran(root, "roihu", jobs)
    assert re.search(r"account project_2001234, partition gpumedium, GPUs on this node: \d+,\d+\n", log)
    stubs = StubLog.read(root / "roihu" / "stubs.log")
    assert not stubs.calls("apptainer") and not stubs.calls("singularity")
    # every job loads the TensorFlow module (CPU stages too): purge, load, list
    load = [["--quiet purge"], ["load python-tensorflow/2.21"], ["list"]]
    assert stubs.calls("module") == load * 4
    assert "Currently Loaded Modules (test stub): python-tensorflow/2.21" in log
    # the extras go into the user base once (the first job) and every later job reuses them
    userbase = root / "userbase"
    assert stubs.calls("pip") == [[str(userbase), f"install --user --quiet --requirement "
                                                  f"{REPO}/recipes/containers/extras.txt"]]
    assert [p.name for p in userbase.glob(".norlm-extras-*")] != []
    assert "extra packages into" in _log(root, "roihu", "corpus", jobs[("roihu", "corpus")])
    assert "extra packages into" not in log


def test_lumi_singularity_rocm_binds_and_horovod(runs):
    root, jobs = _completed(runs, "lumi")
    work = (root / "lumi" / "work").resolve()
    log = _bert_train_ran(root, "lumi", jobs)
    assert re.search(r"account project_465000157, partition standard-g, GPUs on this node: \d+,\d+\n", log)
    stubs = StubLog.read(root / "lumi" / "stubs.log")
    assert stubs.calls("module") == [] and not stubs.calls("apptainer")  # everything is in the image
    calls = stubs.calls("singularity")
    binds = (f"{REPO},{work},/var/spool/slurmd,/opt/cray,/usr/lib64/libcxi.so.1,/usr/lib64/libjansson.so.4,"
             "/project,/scratch,/flash")
    assert {(c[2], c[3]) for c in calls} == {(binds, f"{root / 'images'}/norlm-rocm-tf.sif")}
    gpu = [c for c in calls if c[1] == "--rocm"]
    assert sorted(c[0] for c in gpu) == ["0", "1"] and len(calls) == 6
    miopen = f"/tmp/{getpass.getuser()}-miopen-{jobs[('lumi', 'bert-train-p1')]}"  # job-private, in RAM /tmp
    for rank, _, _, _, _, collective, payload in gpu:
        assert collective.split() == ["CXI_FORK_SAFE=1", "CXI_FORK_SAFE_HP=1", "FI_CXI_DISABLE_CQ_HUGETLB=1",
                                      f"MIOPEN_CUSTOM_CACHE_DIR={miopen}", f"MIOPEN_USER_DB_PATH={miopen}",
                                      "NCCL_NET_GDR_LEVEL=3", "NCCL_SOCKET_IFNAME=hsn"]
        assert payload.startswith(_payload("lumi", work, "bert-train-p1") + " run.engine=horovod ")


def test_engines_are_the_profiles(runs):
    root = runs[0]
    for cluster, engine in ENGINES.items():
        run = json.loads((root / cluster / "work" / "bert" / "phase1" / "run-bert-train.json").read_text())
        assert run["config"]["run"]["engine"] == engine, cluster

