#!/usr/bin/env bash
# `make test-route ROUTE=lumi`: build the route's venv (scripts/setup-route.sh, cached by the lock's
# hash), run the route's tests in it and record the result in requirements/routes/results.tsv and
# README's support matrix (scripts/support_matrix.py).
#
# Every route runs: the venv-against-lock checks (tests/routes/test_route_env.py: versions, extras.txt dry-run, TOML on
# this Python, the engine), the smoke chain (every stage once, through the Makefile), the BERT and
# ELMo tf-distribute 2-workers-equal-1-process tests and the export parity tests (TF1 checkpoint
# names, bilm HDF5, simple_elmo); Horovod routes also the Horovod 2-rank equivalence tests.
# ROUTE_TESTS=... replaces the list (a CI subset); PYTEST_ARGS are passed on.
set -euo pipefail
export TF_CPP_MIN_LOG_LEVEL=${TF_CPP_MIN_LOG_LEVEL:-2}
export NORLM_SMOKE_TIMEOUT=${NORLM_SMOKE_TIMEOUT:-2400}  # the smoke chain on 2 cores shared with other work
cd "$(dirname "$0")/.."
ROUTE=${ROUTE:?set ROUTE (lumi, olivia, roihu, saga-easybuild)}
VENV=$(scripts/setup-route.sh | tail -1)
# setup-route.sh built (or found) this venv for exactly this lock; the Makefile's own set-up stamp in it
# must not look older than a fresh checkout's lock.txt, or the smoke chain's `make` would install the
# dev stack into the route's venv
touch "$VENV/.norlm-setup"
ENGINE=$(sed -n 's/^#@ engine //p' "requirements/routes/$ROUTE.txt")

MW=tests/multiworker
TESTS="tests/routes/test_route_env.py tests/test_smoke_chain.py tests/evaluate/test_metrics.py
  $MW/test_bert_train.py::test_tf_distribute_two_workers_equal_one_process_with_double_batch
  $MW/test_elmo_train.py::test_tf_distribute_two_workers_equal_one_process_with_double_batch
  tests/bert/interop/test_export_tf1.py tests/elmo/test_export.py tests/elmo/test_simple_elmo.py"
case $ENGINE in horovod*) TESTS="$TESTS
  $MW/test_bert_train.py::test_two_ranks_mpirun_equal_one_process_with_double_batch
  $MW/test_elmo_train.py::test_horovod_two_ranks_equal_one_process_with_double_batch" ;;
esac
TESTS=${ROUTE_TESTS:-$TESTS}
# the TF1-checkpoint walk through Hugging Face's converter needs transformers + PyTorch, and the metric
# cross-checks need seqeval and scikit-learn, the smoke chain's HF load transformers: test-only tools of the dev venv, not on any route
DESELECT="not converter_walk and not walk_crashes and not hf_pytorch and not seqeval and not sklearn and not loads_in_transformers"

junit=$(mktemp /tmp/norlm-route-XXXXXX.xml)
start=$(date +%s)
status=0
# shellcheck disable=SC2086
NORLM_ROUTE=$ROUTE "$VENV/bin/python" -m pytest -p no:cacheprovider $TESTS -k "$DESELECT" \
    --junitxml="$junit" ${PYTEST_ARGS:-} || status=$?
secs=$(( $(date +%s) - start ))
if [ -z "${ROUTE_TESTS:-}" ]; then  # a full run is the route's row of the support matrix; a subset is not
    "$VENV/bin/python" scripts/support_matrix.py record route "$ROUTE" "$ENGINE" "$junit" "$secs"
    python3 scripts/support_matrix.py readme
fi
echo "[test-route $ROUTE] pytest exit $status in $secs s ($VENV)"
rm -f "$junit"
exit $status
