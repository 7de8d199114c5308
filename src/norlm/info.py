"""Print what this installation runs on: Python, TensorFlow, Horovod (frameworks, controllers,
GPU operations), mpi4py and its MPI library, CPU count, GPUs seen, the multi-worker engine this launch
would use (and why), and the config in effect."""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from typing import Any

from norlm import __version__, engines
from norlm.config import dump_json, work_dir


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")


def collect(cfg: Any) -> dict[str, Any]:
    import tensorflow as tf

    info: dict[str, Any] = {
        "norlm": __version__,
        "python": f"{platform.python_version()} ({sys.executable})",
        "tensorflow": tf.__version__,
        "tensorflow_built_with_cuda": tf.test.is_built_with_cuda(),
        "cpus": os.cpu_count(),
        "gpus": [d.name for d in tf.config.list_physical_devices("GPU")],
        "horovod": engines.horovod_build(),
    }
    try:
        from mpi4py import MPI
        import mpi4py

        info["mpi4py"] = {"version": mpi4py.__version__, "mpi_library": MPI.Get_library_version().strip().splitlines()[0]}
    except Exception as exc:  # not installed, or no MPI library at run time
        info["mpi4py"] = {"error": f"{type(exc).__name__}: {exc}"}
    rank, size, local = engines.launcher_world()
    info["launch"] = {"rank": rank, "size": size, "local_rank": local}
    try:
        engine, why = engines.choose_engine(cfg.run.engine)
    except ValueError as exc:  # a malformed TF_CONFIG
        engine, why = "error", str(exc)
    info["engine"] = {"requested": cfg.run.engine, "engine": engine, "why": why,
                      "collectives": {"tf-distribute": "NCCL (RCCL on ROCm builds)" if info["gpus"] else "ring",
                                      "horovod": "NCCL" if info["gpus"] else "MPI/Gloo"}.get(engine, "-")}
    info["config_file"] = cfg.source
    info["work_dir"] = str(work_dir(cfg))
    return info


def main(args: argparse.Namespace, cfg: Any) -> int:
    info = collect(cfg)
    if args.json:
        from norlm.config import to_dict

        info["config"] = to_dict(cfg)
        print(json.dumps(info, indent=2, ensure_ascii=False))
        return 0
    hvd = info["horovod"]
    print(f"norlm        {info['norlm']}")
    print(f"python       {info['python']}")
    print(f"tensorflow   {info['tensorflow']} (CUDA build: {info['tensorflow_built_with_cuda']})")
    if hvd.get("installed"):
        ctrl = ", ".join(f"{k.upper()} [{'X' if v else ' '}]" for k, v in hvd["controllers"].items())
        ops = ", ".join(f"{k.upper()} [{'X' if v else ' '}]" for k, v in hvd["operations"].items())
        print(f"horovod      {hvd['version']}  frameworks: TensorFlow [X]  controllers: {ctrl}")
        print(f"             GPU operations: {ops}")
    else:
        print(f"horovod      not usable: {hvd.get('error')}")
    mpi = info["mpi4py"]
    print(f"mpi4py       {mpi.get('version', '-')}  {mpi.get('mpi_library', mpi.get('error', ''))}")
    print(f"cpus         {info['cpus']}")
    print(f"gpus         {len(info['gpus'])} {' '.join(info['gpus'])}")
    print(f"launch       rank {info['launch']['rank']} of {info['launch']['size']} (local rank {info['launch']['local_rank']})")
    eng = info["engine"]
    print(f"engine       {eng['engine']} (run.engine={eng['requested']}; collectives: {eng['collectives']})")
    print(f"             why: {eng['why']}")
    print(f"config       {info['config_file']}")
    print(f"work dir     {info['work_dir']}")
    print("config in effect:")
    print(dump_json(cfg))
    return 0
