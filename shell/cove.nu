# cove shell integration for nushell (SPEC §6). nushell cannot source a command's output, so
# save the script once and source the file from config.nu:
#   cove hook nu | save -f ($nu.default-config-dir | path join cove.nu)
#   source ($nu.default-config-dir | path join cove.nu)      # in config.nu
# Safe to source again: the hook is registered once and the shims are put on PATH once.

const __cove_exe = __COVE_EXE__
const __cove_shims = __COVE_SHIMS__

# The shims first on PATH, once: moved to the front if something was put before them since.
$env.PATH = ($env.PATH | if ($in | describe) == 'string' { split row (char esep) } else { $in })
if ($env.PATH | first 1) != [$__cove_shims] {
    $env.PATH = ($env.PATH | where {|p| $p != $__cove_shims } | prepend $__cove_shims)
}

# Ask cove what to change for the current folder (`cove hook-env --json`) and apply it. A
# missing or failing binary makes this a silent no-op.
def --env __cove_hook [] {
    if not ($__cove_exe | path exists) { return }
    let run = (do { ^$__cove_exe hook-env --json } | complete)
    if $run.exit_code != 0 { return }
    let changes = ($run.stdout | from json)
    for message in $changes.messages { print --stderr $message }
    mut set = $changes.set
    if 'PATH' in $set { $set.PATH = ($set.PATH | split row (char esep)) }
    load-env $set
    for name in $changes.unset { hide-env --ignore-errors $name }
}

# `cove off` / `cove on`: in this shell only, stop or resume activating, applied at once;
# anything else goes to the binary.
def --env --wrapped cove [...args] {
    if $args == ['off'] {
        $env.__COVE_OFF = '1'
        __cove_hook
    } else if $args == ['on'] {
        hide-env --ignore-errors __COVE_OFF
        __cove_hook
    } else {
        ^$__cove_exe ...$args
    }
}

# Before each prompt and on each cd, after the user's own hooks (kept), and once: an earlier
# cove hook is replaced.
def __cove_not_ours [hook] {
    not (($hook | describe) == 'closure' and ((view source $hook) | str contains '__cove_hook'))
}
$env.config.hooks.pre_prompt = (
    $env.config.hooks.pre_prompt? | default [] | where {|h| __cove_not_ours $h } | append {|| __cove_hook }
)
$env.config.hooks.env_change = (
    $env.config.hooks.env_change? | default {} | upsert PWD (
        $env.config.hooks.env_change?.PWD? | default [] | where {|h| __cove_not_ours $h }
        | append {|before, after| __cove_hook }
    )
)
