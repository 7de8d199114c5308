# --- environment (shared by every stage) ---
set -o errexit -o nounset -o pipefail
echo "[norlm] @{title}: job ${SLURM_JOB_ID} (${SLURM_JOB_NAME}) on $(hostname), ${SLURM_NNODES} node(s), ${SLURM_NTASKS:-1} task(s), started $(date -u +%FT%TZ)"
echo "[norlm] account ${SLURM_JOB_ACCOUNT:-?}, partition ${SLURM_JOB_PARTITION:-?}, GPUs on this node: ${CUDA_VISIBLE_DEVICES:-${ROCR_VISIBLE_DEVICES:-none}}"
if [ -e "@{done_file}" ] && [ "${NORLM_FORCE:-0}" != 1 ]; then
    echo "[norlm] @{title} is already complete: @{done_file}"
    exit 0
fi
# --- software ---
@{software}
cd "@{repo}"
export NORLM_WORK="@{work}"
export NORLM_LOCAL_SCRATCH="@{local_scratch}"
export PYTHONPATH="@{repo}/src${PYTHONPATH:+:$PYTHONPATH}"
export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}"
# one task's threads stay within its allocated cores
export OMP_NUM_THREADS="${SLURM_CPUS_PER_TASK:-1}"
export TF_NUM_INTRAOP_THREADS="${SLURM_CPUS_PER_TASK:-1}"
export TF_NUM_INTEROP_THREADS="${TF_NUM_INTEROP_THREADS:-2}"
# --- collective libraries (the site's documented settings) ---
@{collective_env}
NORLM="@{norlm}"
