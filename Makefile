# NorLM — the recipe.  `make help` lists every target and variable.
#
# Each stage is one `norlm <stage>` process that reads files and writes files under $(WORK);
# the targets below depend on those files, so a stage that is up to date is skipped.

SHELL := /bin/bash
.DEFAULT_GOAL := help

CONFIG  ?= demo
PHASE   ?= 1
PYTHON  ?= python3.11
VENV    ?= .venv
WORK    ?= work/$(CONFIG)
CLUSTER ?= local
ACCOUNT ?=
STAGE   ?=
TASK    ?= all
MODEL   ?= all
ARGS    ?=
PYTEST_ARGS ?=

CFG     := configs/$(CONFIG).toml
NORLM   := NORLM_WORK=$(WORK) $(VENV)/bin/norlm
SETUP   := $(VENV)/.norlm-setup
# job rendering needs only the standard library: on a login node without .venv use the system python
NORLM_HPC := NORLM_WORK=$(WORK) $(if $(wildcard $(VENV)/bin/norlm),$(VENV)/bin/norlm,PYTHONPATH=$(CURDIR)/src python3 -m norlm)
EB_ARGS ?=
STAMP   = @printf '\033[1m[%s] %-12s\033[0m %s\n' "$$(date +%H:%M:%S)" "$(1)" "$(2)"
# run one stage: a progress line, the command, its wall time printed and appended to WORK/timings.tsv
RUN     = @mkdir -p $(WORK); printf '\033[1m[%s] %-12s\033[0m %s\n' "$$(date +%H:%M:%S)" "$(1)" "$(2)"; \
          t0=$$(date +%s%N); $(3) || exit $$?; ms=$$(( ($$(date +%s%N) - t0) / 1000000 )); \
          printf '[%s] %-12s done in %d.%d s\n' "$$(date +%H:%M:%S)" "$(1)" $$((ms / 1000)) $$((ms % 1000 / 100)); \
          printf '%s\t%s\t%d.%d\n' "$(1)" "$(2)" $$((ms / 1000)) $$((ms % 1000 / 100)) >> $(WORK)/timings.tsv

export TF_CPP_MIN_LOG_LEVEL ?= 2
export OMPI_ALLOW_RUN_AS_ROOT ?= 1
export OMPI_ALLOW_RUN_AS_ROOT_CONFIRM ?= 1

.PHONY: help setup lint test test-fast test-tf test-route demo info data-verify corpus vocab bert-data bert-train bert-export \
        elmo-vocab elmo-train elmo-export elmo evaluate report bench modules container sbatch submit submit-all clean

help: ## this list
	@echo "NorLM: NorBERT and NorELMo from raw Norwegian text to evaluated, exported models."
	@echo
	@echo "Quick start:  make demo    (set-up + whole pipeline on bundled data)   make test   (test suite)"
	@echo
	@echo "Targets:"
	@grep -hE '^[a-zA-Z0-9_-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/^([a-zA-Z0-9_-]+):.*## (.*)/  \1|\2/' | column -t -s '|'
	@echo
	@echo "Variables (current value):"
	@echo "  CONFIG=$(CONFIG)    config under configs/ (demo, smoke, norbert1, norelmo30, norelmo100)"
	@echo "  WORK=$(WORK)    work folder for every stage's outputs"
	@echo "  PHASE=$(PHASE)    BERT phase for bert-data / bert-train (1: seq 128, 2: seq 512)"
	@echo "  PYTHON=$(PYTHON)    interpreter for the venv      VENV=$(VENV)"
	@echo "  TASK=$(TASK) MODEL=$(MODEL)    evaluate: pos|ner|sentiment|finegrained|negation|all and bert|elmo|baseline|none|all"
	@echo "  CLUSTER=$(CLUSTER) ACCOUNT=$(ACCOUNT) STAGE=$(STAGE)    sbatch/submit: cluster profile, project account, stage"
	@echo "  ARGS=    extra arguments passed to the norlm command (e.g. ARGS='--workers 2')"
	@echo "  PYTEST_ARGS=    extra arguments for pytest (e.g. PYTEST_ARGS='-k corpus')"

# ----------------------------------------------------------------------------- set-up and tests

$(SETUP): requirements/lock.txt pyproject.toml scripts/setup.sh
	$(call STAMP,setup,$(VENV) with the pinned stack)
	@PYTHON=$(PYTHON) VENV=$(VENV) scripts/setup.sh

setup: ## create .venv with TensorFlow 2.18.1, Horovod 0.28.1 (built, cached), mpi4py and the rest
	@PYTHON=$(PYTHON) VENV=$(VENV) scripts/setup.sh

lint: $(SETUP) ## ruff over the whole tree (rules in pyproject.toml); part of make test
	$(VENV)/bin/ruff check src tests bench scripts

test: $(SETUP) lint ## lint, then the test suite (runs set-up first when needed)
	$(VENV)/bin/python -m pytest $(PYTEST_ARGS)

test-fast: $(SETUP) ## the tests not marked slow
	$(VENV)/bin/python -m pytest -m "not slow" $(PYTEST_ARGS)

TF ?= 2.21
# the core suite for the other TF lines: model + LAMB + schedule, resume, export parity (TF1 checkpoint,
# bilm HDF5 + simple_elmo; the PyTorch comparisons need torch, which only the default .venv has),
# ELMo train/export, and the tf-distribute tests; Horovod/MPI tests are deselected (-m "not horovod")
CORE_TESTS ?= tests/bert/test_model.py tests/bert/train/test_lamb.py tests/bert/train/test_schedule.py \
              tests/bert/train/test_resume.py tests/bert/interop/test_export_tf1.py tests/elmo/test_train.py \
              tests/elmo/test_export.py tests/elmo/test_simple_elmo.py tests/multiworker/test_bert_train.py \
              tests/multiworker/test_elmo_train.py tests/multiworker/test_tf_distribute.py tests/foundation/test_engines.py

test-tf: ## build .venv-tf$(TF) (Python 3.12, tensorflow-cpu $(TF).x, no Horovod) and run the core suite there
	@TF=$(TF) scripts/setup-tf.sh
	.venv-tf$(TF)/bin/python -m pytest $(CORE_TESTS) -m "not horovod" -k "not hf_pytorch and not converter_walk and not walk_crashes" $(PYTEST_ARGS)

ROUTE ?= lumi
test-route: ## build ROUTE's venv (requirements/routes/ROUTE.txt: lumi, olivia, roihu, saga-easybuild) and run its tests
	@ROUTE=$(ROUTE) ROUTE_TESTS="$(ROUTE_TESTS)" PYTEST_ARGS="$(PYTEST_ARGS)" scripts/test-route.sh

info: $(SETUP) ## versions, hardware and the config in effect
	$(NORLM) info --config $(CFG) $(ARGS)

data-verify: $(SETUP) ## check the bundled data against data/manifest.tsv
	$(NORLM) data verify

# ----------------------------------------------------------------------------- pipeline stages

$(WORK)/corpus/stats.json: $(CFG) | $(SETUP)
	$(call RUN,corpus,raw text -> $(WORK)/corpus,$(NORLM) corpus --config $(CFG) $(ARGS))

$(WORK)/vocab/vocab.txt: $(WORK)/corpus/stats.json
	$(call RUN,vocab,$(WORK)/vocab,$(NORLM) vocab --config $(CFG) $(ARGS))

$(WORK)/bert/tfrecords/phase%/manifest.json: $(WORK)/vocab/vocab.txt
	$(call RUN,bert-data,phase $* -> $(WORK)/bert/tfrecords/phase$*,$(NORLM) bert-data --config $(CFG) --phase $* $(ARGS))

$(WORK)/bert/phase1/final.json: $(WORK)/bert/tfrecords/phase1/manifest.json
	$(call RUN,bert-train,phase 1 -> $(WORK)/bert/phase1,$(NORLM) bert-train --config $(CFG) --phase 1 $(ARGS))

$(WORK)/bert/phase2/final.json: $(WORK)/bert/tfrecords/phase2/manifest.json $(WORK)/bert/phase1/final.json
	$(call RUN,bert-train,phase 2 -> $(WORK)/bert/phase2,$(NORLM) bert-train --config $(CFG) --phase 2 $(ARGS))

$(WORK)/bert/export/hf/model.safetensors: $(WORK)/bert/phase2/final.json
	$(call RUN,bert-export,$(WORK)/bert/export,$(NORLM) bert-export --config $(CFG) $(ARGS))

$(WORK)/elmo/vocab.txt: $(WORK)/corpus/stats.json
	$(call RUN,elmo-vocab,$(WORK)/elmo/vocab.txt,$(NORLM) elmo-vocab --config $(CFG) $(ARGS))

$(WORK)/elmo/train/final.json: $(WORK)/elmo/vocab.txt
	$(call RUN,elmo-train,$(WORK)/elmo/train,$(NORLM) elmo-train --config $(CFG) $(ARGS))

$(WORK)/elmo/export/model.hdf5: $(WORK)/elmo/train/final.json
	$(call RUN,elmo-export,$(WORK)/elmo/export,$(NORLM) elmo-export --config $(CFG) $(ARGS))

$(WORK)/eval/report.md: $(WORK)/bert/export/hf/model.safetensors $(WORK)/elmo/export/model.hdf5
	$(call RUN,evaluate,tasks=$(TASK) models=$(MODEL),$(NORLM) evaluate --config $(CFG) --task $(TASK) --model $(MODEL) $(ARGS))

$(WORK)/demo/report.md: $(WORK)/eval/report.md
	$(call RUN,report,$(WORK)/demo/report.md,$(NORLM) report --config $(CFG) $(ARGS))

corpus: $(WORK)/corpus/stats.json ## raw text -> clean, deduplicated, sentence-segmented shards
vocab: $(WORK)/vocab/vocab.txt ## WordPiece vocabulary + quality report
bert-data: $(WORK)/bert/tfrecords/phase$(PHASE)/manifest.json ## pretraining TFRecords for PHASE
bert-train: $(WORK)/bert/phase$(PHASE)/final.json ## pretrain BERT, PHASE=1 then PHASE=2 (resumes if interrupted)
bert-export: $(WORK)/bert/export/hf/model.safetensors ## Hugging Face folder + TF1 checkpoint
elmo-vocab: $(WORK)/elmo/vocab.txt ## ELMo word vocabulary and token counts
elmo-train: $(WORK)/elmo/train/final.json ## train NorELMo (resumes if interrupted)
elmo-export: $(WORK)/elmo/export/model.hdf5 ## bilm-tf HDF5 + options.json + vocab (+ zip)
elmo: elmo-export
evaluate: $(WORK)/eval/report.md ## POS / NER / sentiment tables (TASK=, MODEL=)
report: $(WORK)/demo/report.md ## the demo report (markdown + HTML)

demo: $(SETUP) ## the whole pipeline on the bundled data (CONFIG=demo), then the report
	@start=$$(date +%s); \
	$(MAKE) --no-print-directory report CONFIG=$(CONFIG) WORK=$(WORK) \
	  | sed -e 's|^make\[[0-9]*\]: Nothing to be done for .report.\.|everything is up to date ($(WORK))|' ; \
	status=$${PIPESTATUS[0]}; \
	echo "demo: finished in $$(( $$(date +%s) - start )) s (status $$status); report: $(WORK)/demo/report.md"; \
	exit $$status

bench: $(SETUP) ## run the benchmarks in bench/ (not part of make test); results go to bench/RESULTS.md
	@for b in bench/*.py; do echo "== $$b"; $(VENV)/bin/python $$b || exit 1; done

# ----------------------------------------------------------------------------- HPC

modules: ## build the EasyBuild module stack on a cluster (eb --robot easyconfigs/; EB_ARGS= for extra eb options)
	eb --robot=$(CURDIR)/easyconfigs: $(EB_ARGS) $(CURDIR)/easyconfigs/n/NorLM/NorLM-0.1.0-foss-2024a-CUDA-12.6.0.eb

container: ## build CLUSTER's job image (recipes/containers/*.def) with apptainer/singularity where installed
	PYTHONPATH=$(CURDIR)/src $(if $(wildcard $(VENV)/bin/python),$(VENV)/bin/python,python3) -m norlm.hpc.container $(CLUSTER) $(ARGS)

sbatch: ## render recipes for STAGE on CLUSTER with ACCOUNT into $(WORK)/slurm/
	$(NORLM_HPC) sbatch --config $(CFG) --cluster $(CLUSTER) --account "$(ACCOUNT)" --stage $(STAGE) --phase $(PHASE) $(ARGS)

submit: ## render and submit STAGE with sbatch
	$(NORLM_HPC) sbatch --config $(CFG) --cluster $(CLUSTER) --account "$(ACCOUNT)" --stage $(STAGE) --phase $(PHASE) --submit $(ARGS)

submit-all: ## submit the whole pipeline with afterok dependencies
	$(NORLM_HPC) sbatch --config $(CFG) --cluster $(CLUSTER) --account "$(ACCOUNT)" --stage all --submit $(ARGS)

clean: ## remove $(WORK) (never the venv or the wheel cache)
	rm -rf $(WORK)
