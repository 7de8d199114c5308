#!/bin/bash
# Run by %post of recipes/containers/*.def: add the packages of extras.txt to the image's Python and
# nothing else.  The image's TensorFlow (its CUDA or ROCm build), numpy, h5py, Keras and Horovod are held
# at their installed versions with a pip constraint, so pip fails instead of replacing them.  On
# Python 3.10 (LUMI's ROCm image) extras.txt's markers pick the pins that exist there, and tomli, which
# norlm.compat reads TOML with.  The same command, dry-run, is tests/routes/test_route_env.py's.
#   install-extras.sh PYTHON EXTRAS
set -o errexit -o nounset -o pipefail
py=${1:?usage: install-extras.sh PYTHON EXTRAS}
extras=${2:?usage: install-extras.sh PYTHON EXTRAS}
keep=$(dirname "$extras")/image-keeps.txt
"$py" - > "$keep" <<'PY'
import importlib.metadata as md
for name in ("tensorflow", "tensorflow-rocm", "numpy", "h5py", "keras", "horovod"):
    try:
        print(f"{name}=={md.version(name)}")
    except md.PackageNotFoundError:
        pass
PY
echo "[norlm] keeping the image's $(tr '\n' ' ' < "$keep")"
"$py" -m pip install --no-cache-dir --constraint "$keep" --requirement "$extras"
# every runtime import of the stages resolves (mpi4py without MPI_Init: no MPI at build time)
"$py" -c "import numpy, tensorflow, tokenizers, gensim, h5py, safetensors, nervaluate, tqdm, matplotlib, stanza, mpi4py; print('[norlm] image Python ready:', tensorflow.__version__)"
