if [ -e "@{done_file}" ]; then
    echo "[norlm] @{title} finished: @{done_file}"
    exit 0
fi
if [ "${NORLM_CHAIN_LAST:-1}" = 1 ]; then
    echo "[norlm] @{title} stopped (exit code $rc) without @{done_file}, and no follow-up job is left;" \
         "resubmit it (make submit) to resume from the newest checkpoint" >&2
    exit $(( rc == 0 ? 1 : rc ))
fi
echo "[norlm] @{title} stopped (exit code $rc) before finishing; the follow-up job resumes from the newest checkpoint"
exit $rc
