# Stand-in for Lmod's `module` on the test Slurm (source it, then `export -f module`): logs every call
# to $NORLM_STUB_LOG ("module<TAB>args") and, for `load`, sources $NORLM_STUB_MODULES/<name>.sh, which
# sets what the site module would; an unknown module fails as Lmod does.
module() {
    printf 'module\t%s\n' "$*" >> "$NORLM_STUB_LOG"
    local words=() word
    for word in "$@"; do
        case $word in -*) ;; *) words+=("$word") ;; esac
    done
    case ${words[0]:-} in
        load)
            for word in "${words[@]:1}"; do
                if [ ! -f "$NORLM_STUB_MODULES/$word.sh" ]; then
                    echo "Lmod has detected the following error: The following module(s) are unknown: \"$word\"" >&2
                    return 1
                fi
                source "$NORLM_STUB_MODULES/$word.sh"
                NORLM_STUB_LOADED="${NORLM_STUB_LOADED:+$NORLM_STUB_LOADED }$word"
            done ;;
        list) echo "Currently Loaded Modules (test stub): ${NORLM_STUB_LOADED:-none}" ;;
        purge) NORLM_STUB_LOADED="" ;;
        swap|use) ;;
        *) echo "module (test stub): '$*' is not imitated" >&2; return 1 ;;
    esac
}
