#!/usr/bin/env bash
# Build the venv of one software route (requirements/routes/ROUTE.txt): that route's Python minor
# version, TensorFlow (the CPU wheel of the route's version), numpy and libraries, its engine, and
# this checkout installed editable.  `make test-route ROUTE=...` runs the route's tests in it.
#
#   ROUTE=lumi scripts/setup-route.sh             -> prints the venv path on its last line
#   ROUTE=lumi RELOCK=1 scripts/setup-route.sh    resolve the route's pins again, rewrite the lock
#
# The venv lives outside the repository, keyed by the lock's hash:
# $NORLM_ROUTE_CACHE/ROUTE-HASH (default ~/.cache/norlm/routes), so a fresh clone (CI) finds it warm
# and a changed lock builds a new one.  Horovod and mpi4py are built from source against the system
# OpenMPI, as scripts/setup.sh does, and cached in $NORLM_WHEEL_CACHE keyed by versions.
set -euo pipefail
export TF_CPP_MIN_LOG_LEVEL=${TF_CPP_MIN_LOG_LEVEL:-2}
cd "$(dirname "$0")/.."

ROUTE=${ROUTE:?set ROUTE to one of: $(cd requirements/routes && ls ./*.txt | sed 's|./||; s|\.txt$||' | grep -v '^results' | tr '\n' ' ')}
LOCK=requirements/routes/$ROUTE.txt
[ -f "$LOCK" ] || { echo "[setup-route] no route '$ROUTE' (no $LOCK)" >&2; exit 2; }
CACHE=${NORLM_WHEEL_CACHE:-$HOME/.cache/norlm/wheels}
say() { printf '[setup-route %s] %s\n' "$ROUTE" "$*" >&2; }
directive() { sed -n "s/^#@ $1 //p" "$LOCK"; }
pin() { sed -n "s/^$1==\([^ ;#]*\).*/\1/p" "$LOCK" | head -1; }
quiet() { "$@" 2>&1 | { grep -v "^WARNING: Location" || true; } >&2; return "${PIPESTATUS[0]}"; }

PYMINOR=$(directive python)
ENGINE=$(directive engine)
find_python() {
    local p
    for p in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/"$PYMINOR".*/bin/python"$PYMINOR" "$(command -v "python$PYMINOR" || true)"; do
        [ -n "$p" ] && "$p" --version >/dev/null 2>&1 && { echo "$p"; return; }
    done
    echo "[setup-route] Python $PYMINOR not found (pyenv install $PYMINOR, or put python$PYMINOR on PATH)" >&2
    exit 1
}
PYTHON=${PYTHON:-$(find_python)}
HASH=$(sha256sum < "$LOCK" | cut -c1-12)
VENV=${NORLM_ROUTE_CACHE:-$HOME/.cache/norlm/routes}/$ROUTE-$HASH
[ -z "${RELOCK:-}" ] || VENV=${VENV%-*}-relock  # resolving: a scratch venv, not the one of the new lock
PY=$VENV/bin/python

# packages installed without their dependencies: built here (horovod, mpi4py), or pulling the GPU
# `tensorflow` package otherwise (simple_elmo, tf-keras: the simple_elmo parity check)
NODEPS='^(horovod|mpi4py|simple[-_]elmo|tf[-_]keras)=='

relock() {
    # the route's own pins, extras.txt for this Python (container and module routes), the test tools
    local want=/tmp/norlm-route-$ROUTE-want.txt
    grep -E '# route:' "$LOCK" | grep -vE "$NODEPS" | sed 's/ *#.*//' > "$want"
    if [ "$ROUTE" != saga-easybuild ]; then
        "$PY" scripts/route_lock.py extras recipes/containers/extras.txt | grep -vE "$NODEPS" >> "$want"
    fi
    printf '%s\n' pytest==9.2.0 psutil==7.2.2 >> "$want"
    case $ENGINE in horovod*) printf '%s\n' cloudpickle pyyaml packaging >> "$want" ;; esac
    grep -q '^tensorboard==' "$want" || echo "tensorboard~=$(pin tensorflow-cpu | cut -d. -f1-2).0" >> "$want"
    say "resolving $(wc -l < "$want") pins with $("$PY" --version)"
    quiet "$PY" -m pip install -q -r "$want"
    "$PY" -m pip freeze --exclude-editable | grep -viE '^norlm|^(horovod|mpi4py|simple[-_]elmo|tf[-_]keras)==' \
        | "$PY" scripts/route_lock.py rewrite "$LOCK" recipes/containers/extras.txt
    # the scratch venv holds exactly the new lock: it becomes that lock's venv (scripts re-pointed)
    local target
    target=${VENV%-relock}-$(sha256sum < "$LOCK" | cut -c1-12)
    rm -rf "$target"
    mv "$VENV" "$target"
    grep -rlI --null "$VENV" "$target/bin" | xargs -0 -r sed -i "s|$VENV|$target|g"
    VENV=$target PY=$target/bin/python
    say "rewrote $LOCK; its venv: $VENV"
}

build_wheel() {  # name version cache-dir [env...]: a wheel built once against the system MPI
    local name=$1 version=$2 dir=$3 isolation=--no-build-isolation; shift 3
    [ "$name" != mpi4py ] || isolation=  # mpi4py brings its Cython; Horovod builds against this TensorFlow
    if ! ls "$dir/$name"-*.whl >/dev/null 2>&1; then
        say "building $name $version (cached in $dir)"
        mkdir -p "$dir"
        (cd /tmp && env PATH="/usr/bin:/bin:$VENV/bin" MAKEFLAGS=-j"$(nproc)" "$@" \
            "$PY" -m pip wheel --no-cache-dir $isolation --no-deps "$name==$version" -w "$dir" \
            > "$dir/build.log" 2>&1) \
            || { echo "[setup-route] $name build failed; log: $dir/build.log" >&2; tail -30 "$dir/build.log" >&2; exit 1; }
    fi
    quiet "$PY" -m pip install -q --no-deps "$dir/$name"-*.whl
}

install_lock() {
    say "installing $LOCK into $VENV"
    quiet "$PY" -m pip install -q -r <(grep -vE "$NODEPS" "$LOCK")
    local pytag tf
    pytag=$("$PY" -c 'import sys; print(f"cp{sys.version_info[0]}{sys.version_info[1]}")')
    tf=$(pin tensorflow-cpu)
    [ -z "$(pin mpi4py)" ] || build_wheel mpi4py "$(pin mpi4py)" "$CACHE/mpi4py-$(pin mpi4py)-$pytag"
    case $ENGINE in horovod*)
        build_wheel horovod "${ENGINE#horovod }" "$CACHE/horovod-${ENGINE#horovod }-tf$tf-$pytag" \
            HOROVOD_WITH_TENSORFLOW=1 HOROVOD_WITH_MPI=1 HOROVOD_WITH_GLOO=1 HOROVOD_WITHOUT_PYTORCH=1 \
            HOROVOD_WITHOUT_MXNET=1 ;;
    esac
    # simple_elmo (the ELMo parity check) on Keras 2: the tf-keras of the route's TensorFlow line
    quiet "$PY" -m pip install -q --no-deps simple_elmo==0.9.2 "tf-keras~=$(echo "$tf" | cut -d. -f1-2).0"
}

if [ ! -x "$PY" ]; then
    say "creating $VENV with $("$PYTHON" --version)"
    mkdir -p "$(dirname "$VENV")"
    "$PYTHON" -m venv "$VENV"
    quiet "$PY" -m pip install -q --upgrade pip setuptools wheel
fi
[ -z "${RELOCK:-}" ] || relock
STAMP=$VENV/.norlm-setup  # also what the Makefile's stage targets look for
if [ ! -f "$STAMP" ]; then
    install_lock
    date -u +%FT%TZ > "$STAMP"
else
    say "up to date ($VENV)"
fi
# this checkout, every time: a warm venv built from another clone points at the one under test
quiet "$PY" -m pip install -q --no-deps --no-build-isolation -e .
echo "$VENV"
