"""The test Slurm's configuration: every profiled partition with its limits, fake GPUs per type."""
from __future__ import annotations

import os

from norlm.hpc.testcluster import write_config


def test_overlay_of_saga_and_puhti_partitions(tmp_path):
    conf = write_config(tmp_path / "slurm", ["saga", "puhti", "local"]).read_text()
    parts = {line.split()[0].split("=")[1]: line for line in conf.splitlines() if line.startswith("PartitionName=")}
    assert set(parts) == {"normal", "bigmem", "accel", "a100", "devel", "small", "large", "gpu", "gputest", "debug"}
    assert "MaxTime=00:15:00 MaxMemPerNode=381952 MaxCPUsPerNode=40" in parts["gputest"]
    assert "MaxTime=14-00:00:00 MaxMemPerNode=386048 MaxCPUsPerNode=24" in parts["accel"]
    assert "Default=YES" in parts["debug"] and "Default=YES" not in parts["gpu"]
    assert "EnforcePartLimits=ALL" in conf and "SlurmdParameters=config_overrides" in conf
    assert "Gres=gpu:a100:4,gpu:p100:4,gpu:v100:4,nvme:3600" in conf
    gres = (tmp_path / "slurm" / "gres.conf").read_text()
    assert f"Type=v100 File={tmp_path / 'slurm'}/fakedev/nvidia[8-11]" in gres
    assert all(os.readlink(tmp_path / "slurm" / "fakedev" / f"nvidia{i}") == "/dev/null" for i in range(12))
    ports = [int(line.split("=")[1]) for line in conf.splitlines() if line.startswith(("SlurmctldPort", "SlurmdPort"))]
    assert len(set(ports)) == 2 and all(p > 1024 for p in ports)
