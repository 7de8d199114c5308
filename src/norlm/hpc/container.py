"""`make container CLUSTER=...`: build a cluster's job image from its recipes/containers/*.def.

    python -m norlm.hpc.container CLUSTER [--arch ARCH] [--print]

The image goes where the rendered jobs look for it (the profile's [container] image, under
$NORLM_CONTAINERS or <repo>/containers).  %post runs natively, so the image is built for the
architecture of the machine it runs on: Olivia's arm64 GPU image on a GH200 node, its x86_64 CPU
image on an x86 node.  Where neither apptainer nor singularity is installed it says so and stops.
"""
from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

from norlm.config import REPO_ROOT
from norlm.errors import StageError
from norlm.hpc.profile import ClusterProfile, Container, RenderError, load_profile

RUNTIMES = ("apptainer", "singularity")
_ARCH = {"arm64": "aarch64", "amd64": "x86_64"}


def container_of(profile: ClusterProfile) -> Container:
    box = profile.container
    if box is None or not box.definition:
        raise RenderError(f"{profile.name} has no [container] definition in {profile.path}; the container "
                          f"route exists for olivia and lumi")
    return box


def image_for_arch(profile: ClusterProfile, arch: str) -> str:
    """The profile's image built for `arch` (GPU nodes' image, or the CPU nodes' when they differ)."""
    box = container_of(profile)
    arch = _ARCH.get(arch, arch)
    cpu_arches = {p.arch for p in (profile.partitions or {}).values() if p.arch}
    if arch == profile.cpu_arch:
        image = box.image
    elif box.image_cpu and arch in cpu_arches:
        image = box.image_cpu
    else:
        raise RenderError(f"{profile.name}'s images are for {', '.join(sorted({profile.cpu_arch, *cpu_arches}))}, "
                          f"not {arch}: build on one of its nodes")
    folder = os.environ.get("NORLM_CONTAINERS") or str(REPO_ROOT / "containers")
    return image.replace("{containers}", folder)


def build_command(profile: ClusterProfile, arch: str, runtime: str, env: dict[str, str]) -> list[str]:
    definition = REPO_ROOT / container_of(profile).definition
    if not definition.is_file():
        raise RenderError(f"{definition} missing (named by [container] definition in {profile.path})")
    args = []
    if "{{ BASE }}" in definition.read_text(encoding="utf-8") and env.get("SIF"):
        args += ["--build-arg", f"BASE={env['SIF']}"]  # LUMI: the image of the loaded TensorFlow module
    return [runtime, "build", *args, image_for_arch(profile, arch), str(definition.relative_to(REPO_ROOT))]


def find_runtime(profile: ClusterProfile) -> str:
    """The profile's runtime, else the other one (apptainer ships a `singularity` link, and vice versa)."""
    first = container_of(profile).runtime
    for name in (first, *[r for r in RUNTIMES if r != first]):
        if shutil.which(name):
            return name
    return ""


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m norlm.hpc.container", description=__doc__.split("\n\n")[0])
    parser.add_argument("cluster", help="cluster profile with a [container] section (olivia, lumi)")
    parser.add_argument("--arch", default=platform.machine(), help="CPU architecture to build for (default: "
                        "this machine's; must be it unless the runtime emulates)")
    parser.add_argument("--print", action="store_true", help="print the build command instead of running it")
    args = parser.parse_args(argv)
    try:
        profile = load_profile(args.cluster)
        runtime = find_runtime(profile)
        cmd = build_command(profile, args.arch, runtime or container_of(profile).runtime, dict(os.environ))
        if args.print:
            print(" ".join(cmd))
            return 0
        if not runtime:
            raise StageError(f"neither apptainer nor singularity is installed here, so no image is built; on "
                             f"{profile.name} run `make container CLUSTER={profile.name}` on a node of the image's "
                             f"architecture.  The command would be: {' '.join(cmd)}")
        Path(cmd[-2]).parent.mkdir(parents=True, exist_ok=True)
        print(f"[norlm] {' '.join(cmd)}", flush=True)
        return subprocess.run(cmd, cwd=REPO_ROOT).returncode
    except StageError as exc:
        print(f"norlm container: error: {exc}", file=sys.stderr)
        return exc.exit_code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
