# cove shell integration for zsh (SPEC §6). Printed by `cove hook zsh`; in ~/.zshrc:
#   eval "$(cove hook zsh)"
# Safe to evaluate again: add-zsh-hook registers the hook once, the shims go on PATH once.

typeset -g __cove_exe=__COVE_EXE__
typeset -g __cove_shims=__COVE_SHIMS__

# The shims first on PATH, once: moved to the front if something was put before them since.
if [[ ":${PATH-}:" != ":${__cove_shims}:"* ]]; then
  typeset -g __cove_path=":${PATH-}:"
  __cove_path=${__cove_path//":${__cove_shims}:"/:}
  __cove_path=${__cove_path#:}
  __cove_path=${__cove_path%:}
  export PATH="${__cove_shims}${__cove_path:+:${__cove_path}}"
  unset __cove_path
fi

# Before each prompt and on each cd: ask cove what to change for the current folder and apply
# it. The output is captured first and evaluated only when cove succeeded, with SIGINT ignored
# meanwhile (localtraps restores the user's trap on return). zsh restores `$?` after hook
# functions itself. A missing binary makes this a silent no-op.
_cove_hook() {
  local previous_exit_status=$?
  if [[ -x "${__cove_exe-}" ]]; then
    local __cove_out
    if __cove_out="$(__COVE_OFF="${__cove_off-}" "$__cove_exe" hook-env zsh)" && [[ -n "$__cove_out" ]]; then
      setopt localoptions localtraps
      trap -- '' INT
      eval "$__cove_out"
    fi
  fi
  return $previous_exit_status
}

# `cove off` / `cove on`: in this shell only (a variable of this shell, not exported), stop or
# resume activating, applied at once; anything else goes to the binary.
cove() {
  case "$#:${1-}" in
    1:off) typeset -g __cove_off=1; _cove_hook ;;
    1:on) typeset -g __cove_off=; _cove_hook ;;
    *) "$__cove_exe" "$@" ;;
  esac
}

autoload -Uz add-zsh-hook
add-zsh-hook precmd _cove_hook
add-zsh-hook chpwd _cove_hook
