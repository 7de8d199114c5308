#!/usr/bin/env bash
# Create .venv with the pinned NorLM stack.  A second run is a fast no-op.
#
#   PYTHON=python3.11 VENV=.venv scripts/setup.sh
#
# Horovod 0.28.1 and mpi4py are built from source against Debian's OpenMPI (Horovod with
# /usr/bin/cmake and --no-build-isolation, because pip's cmake 4.x fails and TensorFlow >= 2.19
# cannot build Horovod).  The built wheels are cached outside the repository in
# $NORLM_WHEEL_CACHE (default ~/.cache/norlm/wheels), keyed by versions, and reused.
set -euo pipefail
export TF_CPP_MIN_LOG_LEVEL=${TF_CPP_MIN_LOG_LEVEL:-2}
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3.11}
VENV=${VENV:-.venv}
CACHE=${NORLM_WHEEL_CACHE:-$HOME/.cache/norlm/wheels}
TF_VERSION=2.18.1
HOROVOD_VERSION=0.28.1
MPI4PY_VERSION=4.1.1
DEBIAN_PACKAGES="openmpi-bin libopenmpi-dev slurm-wlm slurmctld slurmd slurm-client munge lmod"

say() { printf '[setup] %s\n' "$*"; }

# ---------------------------------------------------------------- the stamp: skip when nothing changed
stamp_key() {
    cat requirements/lock.txt pyproject.toml scripts/setup.sh | sha256sum | cut -c1-16
    echo "$PYTHON"
}
if [ -f "$VENV/.norlm-setup" ] && [ "$(cat "$VENV/.norlm-setup")" = "$(stamp_key)" ]; then
    touch "$VENV/.norlm-setup"
    say "up to date ($VENV)"
    exit 0
fi

# ---------------------------------------------------------------- system packages
missing=""
command -v mpicc >/dev/null || missing="$missing openmpi-bin libopenmpi-dev"
command -v slurmctld >/dev/null || missing="$missing slurm-wlm slurmctld slurmd slurm-client"
command -v munged >/dev/null || [ -x /usr/sbin/munged ] || missing="$missing munge"
[ -f /usr/share/lmod/lmod/init/bash ] || missing="$missing lmod"
[ -x /usr/bin/cmake ] || missing="$missing cmake"
if [ -n "$missing" ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        say "installing Debian packages:$missing"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $DEBIAN_PACKAGES cmake >/dev/null
    else
        echo "[setup] missing system packages:$missing" >&2
        echo "[setup] install them first, e.g.: sudo apt-get install$missing" >&2
        echo "[setup] (on a cluster: module load OpenMPI, or use the EasyBuild stack in easyconfigs/)" >&2
        exit 1
    fi
fi
command -v "$PYTHON" >/dev/null || { echo "[setup] $PYTHON not found; set PYTHON=python3.11 (or 3.12)" >&2; exit 1; }

# ---------------------------------------------------------------- the virtual environment
if [ ! -x "$VENV/bin/python" ]; then
    say "creating $VENV with $($PYTHON --version)"
    "$PYTHON" -m venv "$VENV"
fi
PY="$VENV/bin/python"
PYTAG=$("$PY" -c 'import sys; print(f"cp{sys.version_info[0]}{sys.version_info[1]}")')
"$PY" -m pip install -q --upgrade pip setuptools wheel 2>&1 | grep -v '^WARNING: Location' || true
say "installing the pinned stack (requirements/lock.txt)"
"$PY" -m pip install -q -r requirements/lock.txt 2>&1 | grep -v '^WARNING: Location' || true
"$PY" -c "import tensorflow, tokenizers, gensim, torch, transformers" \
    || { echo "[setup] pinned stack did not install; see the pip output above" >&2; exit 1; }
# simple_elmo (ecosystem check) needs tf-keras; tf-keras would pull the GPU `tensorflow` package,
# so both go in without dependencies.
"$PY" -m pip install -q --no-deps simple_elmo==0.9.2 tf-keras==2.18.0 2>&1 | grep -v '^WARNING: Location' || true

# ---------------------------------------------------------------- mpi4py against the system MPI
MPI_DIR="$CACHE/mpi4py-$MPI4PY_VERSION-$PYTAG"
if ! ls "$MPI_DIR"/mpi4py-*.whl >/dev/null 2>&1; then
    say "building mpi4py $MPI4PY_VERSION against $(mpicc --showme:version 2>&1 | head -1) (cached in $MPI_DIR)"
    mkdir -p "$MPI_DIR"
    (cd /tmp && "$OLDPWD/$PY" -m pip wheel -q --no-cache-dir --no-binary mpi4py --no-deps \
        "mpi4py==$MPI4PY_VERSION" -w "$MPI_DIR")
fi
"$PY" -m pip install -q --no-deps "$MPI_DIR"/mpi4py-*.whl

# ---------------------------------------------------------------- Horovod against TensorFlow + MPI + Gloo
HVD_DIR="$CACHE/horovod-$HOROVOD_VERSION-tf$TF_VERSION-$PYTAG"
if ! ls "$HVD_DIR"/horovod-*.whl >/dev/null 2>&1; then
    say "building Horovod $HOROVOD_VERSION for TensorFlow $TF_VERSION (about 6-11 minutes; cached in $HVD_DIR)"
    mkdir -p "$HVD_DIR"
    VENV_ABS=$(cd "$VENV" && pwd)
    (cd /tmp && PATH="/usr/bin:/bin:$VENV_ABS/bin" \
        HOROVOD_WITH_TENSORFLOW=1 HOROVOD_WITH_MPI=1 HOROVOD_WITH_GLOO=1 \
        HOROVOD_WITHOUT_PYTORCH=1 HOROVOD_WITHOUT_MXNET=1 MAKEFLAGS=-j"$(nproc)" \
        "$VENV_ABS/bin/python" -m pip wheel --no-cache-dir --no-build-isolation --no-deps \
        "horovod==$HOROVOD_VERSION" -w "$HVD_DIR" > "$HVD_DIR/build.log" 2>&1) \
        || { echo "[setup] Horovod build failed; log: $HVD_DIR/build.log" >&2; tail -30 "$HVD_DIR/build.log" >&2; exit 1; }
fi
"$PY" -m pip install -q "$HVD_DIR"/horovod-*.whl 2>&1 | grep -v '^WARNING: Location' || true

# ---------------------------------------------------------------- the project itself
"$PY" -m pip install -q --no-deps --no-build-isolation -e . 2>&1 | grep -v '^WARNING: Location' || true
"$VENV/bin/norlm" --version
"$VENV/bin/horovodrun" --check-build | sed -n '/Controllers/,/Gloo/p' | tr -s ' \n' ' '; echo
stamp_key > "$VENV/.norlm-setup"
say "done: $VENV"
