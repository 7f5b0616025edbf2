# cove shell integration for bash (SPEC §6). Printed by `cove hook bash`; in ~/.bashrc:
#   eval "$(cove hook bash)"
# Safe to evaluate again: the hook is registered once and the shims are put on PATH once.
# shellcheck shell=bash

__cove_exe=__COVE_EXE__
__cove_shims=__COVE_SHIMS__

# The shims first on PATH, once: moved to the front if something was put before them since.
if [[ ":${PATH-}:" != ":${__cove_shims}:"* ]]; then
  __cove_path=":${PATH-}:"
  __cove_path=${__cove_path//":${__cove_shims}:"/:}
  __cove_path=${__cove_path#:}
  __cove_path=${__cove_path%:}
  export PATH="${__cove_shims}${__cove_path:+:${__cove_path}}"
  unset __cove_path
fi

# At each prompt: ask cove what to change for the current folder and apply it. The output is
# captured first and evaluated only when cove succeeded, with SIGINT ignored meanwhile so Ctrl-C
# cannot leave half a change applied. `$?` is the user's again on return. A missing binary makes
# this a silent no-op.
_cove_hook() {
  local previous_exit_status=$?
  if [[ -x "${__cove_exe-}" ]]; then
    local __cove_out __cove_int
    if __cove_out="$(__COVE_OFF="${__cove_off-}" "$__cove_exe" hook-env bash)" && [[ -n "$__cove_out" ]]; then
      __cove_int="$(trap -p INT)"
      trap -- '' INT
      eval "$__cove_out"
      if [[ -n "$__cove_int" ]]; then eval "$__cove_int"; else trap - INT; fi
    fi
  fi
  return "$previous_exit_status"
}

# `cove off` / `cove on`: in this shell only (a variable of this shell, not exported), stop or
# resume activating, applied at once; anything else goes to the binary.
cove() {
  case "$#:${1-}" in
    1:off) __cove_off=1; _cove_hook ;;
    1:on) __cove_off=; _cove_hook ;;
    *) "$__cove_exe" "$@" ;;
  esac
}

# Run first at each prompt, while `$?` is still the user's. bash-preexec rewrites
# PROMPT_COMMAND, so with it loaded the hook goes in its precmd_functions instead.
if [[ -n "${bash_preexec_imported-}${__bp_imported-}" ]]; then
  if [[ " ${precmd_functions[*]-} " != *" _cove_hook "* ]]; then
    precmd_functions=(_cove_hook ${precmd_functions[@]+"${precmd_functions[@]}"})
  fi
elif [[ "$(declare -p PROMPT_COMMAND 2>/dev/null)" == "declare -a"* ]]; then
  # bash >= 5.1 also takes PROMPT_COMMAND as an array of commands.
  if [[ " ${PROMPT_COMMAND[*]} " != *" _cove_hook "* ]]; then
    PROMPT_COMMAND=(_cove_hook "${PROMPT_COMMAND[@]}")
  fi
elif [[ ";${PROMPT_COMMAND-};" != *";_cove_hook;"* ]]; then
  # A string here (the array case is above).
  # shellcheck disable=SC2128,SC2178
  PROMPT_COMMAND="_cove_hook${PROMPT_COMMAND:+;${PROMPT_COMMAND}}"
fi
