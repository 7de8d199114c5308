#!/bin/bash
# Run by %post of recipes/containers/*.def: add the packages of extras.txt to the image's Python and
# nothing else.  The image's TensorFlow (its CUDA or ROCm build), numpy, Keras and Horovod are held
# at their installed versions with a pip constraint, so pip fails instead of replacing them; a
# Python older than 3.11 gets tomllib as a shim over tomli (LUMI's ROCm image has Python 3.10).
#   install-extras.sh PYTHON EXTRAS
set -o errexit -o nounset -o pipefail
py=${1:?usage: install-extras.sh PYTHON EXTRAS}
extras=${2:?usage: install-extras.sh PYTHON EXTRAS}
keep=$(dirname "$extras")/image-keeps.txt
"$py" - > "$keep" <<'PY'
import importlib.metadata as md
for name in ("tensorflow", "tensorflow-rocm", "numpy", "keras", "horovod"):
    try:
        print(f"{name}=={md.version(name)}")
    except md.PackageNotFoundError:
        pass
PY
echo "[norlm] keeping the image's $(tr '\n' ' ' < "$keep")"
"$py" -m pip install --no-cache-dir --constraint "$keep" --requirement "$extras"
if ! "$py" -c "import tomllib" 2>/dev/null; then
    site=$("$py" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
    printf '%s\n' '"""tomllib for Python < 3.11 (from install-extras.sh): the parts NorLM uses."""' \
        'from tomli import TOMLDecodeError, load, loads  # noqa: F401' > "$site/tomllib.py"
fi
# every runtime import of the stages resolves (mpi4py without MPI_Init: no MPI at build time)
"$py" -c "import tomllib, numpy, tensorflow, tokenizers, gensim, h5py, safetensors, nervaluate, tqdm, matplotlib, stanza, mpi4py; print('[norlm] image Python ready:', tensorflow.__version__)"
