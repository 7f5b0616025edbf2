# cove shell integration for fish (SPEC §6). Printed by `cove hook fish`; in
# ~/.config/fish/config.fish:
#   cove hook fish | source
# Safe to source again: redefining the function replaces its handlers, the shims go on PATH once.

set -g __cove_exe __COVE_EXE__
set -g __cove_shims __COVE_SHIMS__

# The shims first on PATH, once: moved to the front if something was put before them since.
if test "$PATH[1]" != "$__cove_shims"
    while set -l i (contains -i -- $__cove_shims $PATH)
        set -e PATH[$i]
    end
    set -gx PATH $__cove_shims $PATH
end

# Before each prompt and whenever PWD changes: ask cove what to change for the current folder
# and apply it. The output is captured first and sourced only when cove succeeded. fish restores
# `$status` after event handlers itself. A missing binary makes this a silent no-op.
function __cove_hook --on-event fish_prompt --on-variable PWD --description 'cove: activate the project environment'
    test -x "$__cove_exe"; or return 0
    set -lx __COVE_OFF $__cove_off
    set -l out ("$__cove_exe" hook-env fish); or return 0
    test -n "$out"; and string join \n -- $out | source
end

# `cove off` / `cove on`: in this shell only (a variable of this shell, not exported), stop or
# resume activating, applied at once; anything else goes to the binary.
function cove --description 'cove (off/on: in this shell only)'
    if test (count $argv) -eq 1; and contains -- $argv[1] off on
        if test $argv[1] = off
            set -g __cove_off 1
        else
            set -e -g __cove_off
        end
        __cove_hook
    else
        $__cove_exe $argv
    end
end
