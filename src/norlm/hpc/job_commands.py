"""How a job's Python gets onto the node: the shell lines of the two software routes, the
collective-library environment, and the `srun` and `norlm` command words of the job script.

* modules: `module load` the EasyBuild stack (Saga) or the site's TensorFlow module (Roihu, whose
  extra packages go once into a per-project user base);
* container: `apptainer|singularity exec --nv|--rocm --bind ... IMAGE python -m norlm`, with the
  checkout on PYTHONPATH (Olivia's NGC image, LUMI's ROCm image).
"""
from __future__ import annotations

import shlex
from typing import Any

from norlm.config import REPO_ROOT
from norlm.hpc.jobs import Job
from norlm.hpc.profile import ClusterProfile, RenderError, ROUTES


def route_of(profile: ClusterProfile, cfg: Any, route: str = "") -> str:
    chosen = route or cfg.hpc.route or profile.route
    if chosen not in ROUTES:
        raise RenderError(f"route '{chosen}' is not one of {', '.join(ROUTES)}")
    if chosen == "container" and not (profile.container and (profile.container.image or cfg.hpc.image)):
        raise RenderError(f"{profile.name} has no container image: set [container] image in {profile.path} "
                          f"or hpc.image in the config")
    return chosen


def engine_of(profile: ClusterProfile, cfg: Any) -> str:
    """The config's run.engine when it names one, else the cluster's default."""
    engine = getattr(cfg.run, "engine", "auto")
    return profile.engine if engine == "auto" else engine


CONTAINERS = "${NORLM_CONTAINERS:-%s}" % (REPO_ROOT / "containers")  # where `make container` puts images


def image_of(profile: ClusterProfile, cfg: Any, job: Job) -> str:
    """The image of `job` ({containers} is the images folder, $NORLM_CONTAINERS or <repo>/containers)."""
    box = profile.container
    if cfg.hpc.image:
        image = cfg.hpc.image
    elif box is None:
        return ""
    else:
        image = box.image_cpu if job.kind == "cpu" and box.image_cpu else box.image
    return image.replace("{containers}", CONTAINERS)


def _modules_lines(profile: ClusterProfile, cfg: Any, job: Job, route: str) -> list[str]:
    modules = cfg.hpc.modules or (profile.modules_gpu if job.kind == "gpu" else profile.modules_cpu)
    setup = list(profile.partition(job.partition).setup)
    if not modules and not setup:
        return []
    lines = [f'type module >/dev/null 2>&1 || source "{profile.module_init}"', "module --quiet purge"]
    lines += setup
    if profile.module_use and route == "modules":
        lines.append(f'module use "{profile.module_use}"')
    if modules:
        lines.append("module load " + " ".join(shlex.quote(m) for m in modules))
    lines.append("module list 2>&1")
    return lines


def _userbase_lines(profile: ClusterProfile) -> list[str]:
    """Install the extras the site module lacks into a per-project user base, once (flock'ed)."""
    if not profile.python_userbase:
        return []
    extras = REPO_ROOT / profile.python_extras
    return [
        f'export PYTHONUSERBASE="${{NORLM_PYUSERBASE:-{profile.python_userbase}}}"',
        'export PATH="$PYTHONUSERBASE/bin:$PATH"',
        f'extras="{extras}"',
        'stamp="$PYTHONUSERBASE/.norlm-extras-$(sha256sum "$extras" | cut -c1-16)"',
        'if [ ! -e "$stamp" ]; then',
        '    mkdir -p "$PYTHONUSERBASE"',
        '    (',
        '        flock 9',
        '        if [ ! -e "$stamp" ]; then',
        '            echo "[norlm] installing $(grep -c "==" "$extras") extra packages into $PYTHONUSERBASE (once)"',
        '            ${NORLM_PIP:-python -m pip} install --user --quiet --requirement "$extras"',
        '            touch "$stamp"',
        '        fi',
        '    ) 9>"$PYTHONUSERBASE/.norlm-install.lock"',
        'fi',
    ]


def software_block(profile: ClusterProfile, cfg: Any, job: Job, route: str) -> str:
    """Shell lines that make `python -m norlm` runnable on the node."""
    lines = _modules_lines(profile, cfg, job, route)
    if route == "modules":
        lines += _userbase_lines(profile)
    else:
        box = profile.container
        image = image_of(profile, cfg, job)
        lines.append(f'NORLM_IMAGE="${{NORLM_IMAGE:-{image}}}"')
        lines.append('[ -r "$NORLM_IMAGE" ] || { echo "[norlm] container image $NORLM_IMAGE not found: build it '
                     f'with make container CLUSTER={profile.name} (recipes/containers/)" >&2; exit 2; }}')
        if box and box.ld_library_path:
            paths = ":".join(box.ld_library_path)
            prefix = box.runtime.upper()
            lines.append(f'export {prefix}ENV_LD_LIBRARY_PATH="{paths}"')
    return "\n".join(lines)


def env_block(profile: ClusterProfile, job: Job) -> str:
    """The site's collective-library variables (GPU stages), exported before the launch."""
    if job.kind != "gpu" or not profile.env:
        return ""
    return "\n".join(f'export {key}="{value}"' for key, value in profile.env.items())


def norlm_command(profile: ClusterProfile, cfg: Any, job: Job, route: str, work: str) -> str:
    """What the templates run as $NORLM."""
    if route == "modules":
        return "python -m norlm"
    box = profile.container
    binds = [str(REPO_ROOT), str(work), *box.binds]
    words = [box.runtime, "exec"]
    if job.kind == "gpu":
        binds += box.binds_gpu
        words += [box.gpu_flag] if box.gpu_flag else []
    words += ["--bind", ",".join(binds), '$NORLM_IMAGE', "python", "-m", "norlm"]
    return " ".join(words)


def srun_command(profile: ClusterProfile, job: Job) -> str:
    # a failed rank ends the step at once, except in training: after SIGUSR1 the workers stop one
    # by one while rank 0 is still writing the checkpoint, which must not be killed
    words = ["srun"] + ([] if job.signal_seconds else ["--kill-on-bad-exit=1"])
    words += [f"--mpi={profile.srun_mpi}"] if profile.srun_mpi else []
    if job.kind == "gpu":
        words += list(profile.srun_gpu)
    return " ".join(words)
