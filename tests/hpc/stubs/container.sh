#!/bin/bash
# Stand-in for `apptainer` and `singularity` (called by either name) on the test Slurm: logs how it
# was called, one tab-separated line per call to $NORLM_STUB_LOG (name, rank, GPU flag, binds, image,
# the <NAME>ENV_LD_LIBRARY_PATH it was given, the collective-library variables, the command), then
# runs the command on the host, as the image's Python would.
set -o errexit -o nounset -o pipefail
tool=$(basename "$0")
[ "${1:-}" = exec ] || { echo "$tool (test stub): only 'exec' is imitated, got: $*" >&2; exit 2; }
shift
gpu="" binds=""
while [ $# -gt 0 ]; do
    case $1 in
        --nv|--rocm) gpu=$1; shift ;;
        --bind|-B) binds=${binds:+$binds,}$2; shift 2 ;;
        -*) echo "$tool (test stub): option $1 is not imitated" >&2; exit 2 ;;
        *) break ;;
    esac
done
image=${1:?"$tool (test stub): no image given"}; shift
[ -r "$image" ] || { echo "$tool (test stub): image $image not found" >&2; exit 255; }
ld_var="$(echo "$tool" | tr '[:lower:]' '[:upper:]')ENV_LD_LIBRARY_PATH"
collective=$(env | { grep -E '^(NCCL_|FI_|CXI_|MIOPEN_)' || true; } | sort | tr '\n' ' ')
printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$tool" "${SLURM_PROCID:-batch}" "$gpu" "$binds" "$image" \
    "${!ld_var:-}" "${collective% }" "$*" >> "$NORLM_STUB_LOG"
exec "$@"
