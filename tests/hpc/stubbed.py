"""The submit environment of the Olivia / Roihu / LUMI job scripts on the local test Slurm: stub
`apptainer`/`singularity` (tests/hpc/stubs/container.sh) and a stub `module` function with stub site
modules, each logging how it was called to the job's NORLM_STUB_LOG, plus stand-in images (empty
files where the scripts look for them), a user base and a stub pip for Roihu's extras."""
from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import VENV_BIN

STUBS = Path(__file__).with_name("stubs")
IMAGES = ("norlm-ngc-tf-arm64.sif", "norlm-ngc-tf-x86_64.sif", "norlm-rocm-tf.sif")


@dataclass(frozen=True)
class StubLog:
    lines: list[list[str]]

    @classmethod
    def read(cls, path: Path) -> "StubLog":
        text = path.read_text() if path.exists() else ""
        return cls([line.split("\t") for line in text.splitlines()])

    def calls(self, tool: str) -> list[list[str]]:
        return [fields[1:] for fields in self.lines if fields[0] == tool]


def stub_env(slurm_env: dict[str, str], root: Path) -> dict[str, str]:
    """The session cluster's submit environment with the stub `module` exported in place of Lmod's,
    the stub runtimes first on PATH and the stubs' variables."""
    bin_dir, images = root / "bin", root / "images"
    bin_dir.mkdir(parents=True, exist_ok=True)
    images.mkdir(exist_ok=True)
    for name in ("apptainer", "singularity"):
        if not (bin_dir / name).exists():
            (bin_dir / name).symlink_to(STUBS / "container.sh")
    for image in IMAGES:
        (images / image).write_text("stand-in image for the stub container runtime\n")
    env = {k: v for k, v in slurm_env.items() if not k.startswith("BASH_FUNC_module")}
    env["BASH_FUNC_module%%"] = _exported_function()
    env["PATH"] = f"{bin_dir}:{VENV_BIN}:{env.get('PATH', '')}"
    env.update(NORLM_STUB_MODULES=str(STUBS / "modules"), NORLM_STUB_ROOT=str(root / "host"),
               NORLM_STUB_PYTHON_BIN=str(VENV_BIN), NORLM_CONTAINERS=str(images),
               NORLM_PYUSERBASE=str(root / "userbase"), NORLM_PIP=str(STUBS / "pip"))
    return env


def _exported_function() -> str:
    """The value bash exports for the stub `module` (BASH_FUNC_module%%)."""
    out = subprocess.run(["bash", "-c", f"source {STUBS}/module.sh && export -f module && env -0"], check=True,
                         capture_output=True, timeout=30).stdout.decode()
    for item in out.split("\0"):
        if item.startswith("BASH_FUNC_module%%="):
            return item.split("=", 1)[1]
    raise AssertionError("bash did not export the stub module function")


