# cove shell integration for elvish (SPEC §6). Printed by `cove hook elvish`; in
# ~/.config/elvish/rc.elv:
#   eval (cove hook elvish | slurp)
# Safe to evaluate again: the hook is registered once and the shims are put on PATH once.

use path
use str

var cove-exe = __COVE_EXE__
var cove-shims = __COVE_SHIMS__

# The shims first on PATH, once: moved to the front if something was put before them since.
if (or (== (count $paths) 0) (!=s $paths[0] $cove-shims)) {
  set paths = [$cove-shims (each {|p| if (!=s $p $cove-shims) { put $p } } $paths)]
}

# Ask cove what to change for the current folder (`cove hook-env --json`) and apply it. A
# missing or failing binary makes this a silent no-op.
fn __cove_hook {
  if (not (path:is-regular $cove-exe)) { return }
  var changes = (try { (external $cove-exe) hook-env --json | from-json } catch { put $nil })
  if (eq $changes $nil) { return }
  for message $changes[messages] { echo $message >&2 }
  for name [(keys $changes[set])] { set-env $name $changes[set][$name] }
  for name $changes[unset] { unset-env $name }
}

# `cove off` / `cove on`: in this shell only, stop or resume activating, applied at once;
# anything else goes to the binary.
fn cove {|@args|
  if (eq $args [off]) {
    set-env __COVE_OFF 1
    __cove_hook
  } elif (eq $args [on]) {
    unset-env __COVE_OFF
    __cove_hook
  } else {
    (external $cove-exe) $@args
  }
}
edit:add-var cove~ $cove~

# Before each prompt and after each cd, once: an earlier cove hook is replaced; others are kept.
fn -cove-not-ours {|f| try { not (str:contains $f[def] '__cove_hook') } catch { put $true } }
set edit:before-readline = [(each {|f| if (-cove-not-ours $f) { put $f } } $edit:before-readline) {|| __cove_hook }]
set after-chdir = [(each {|f| if (-cove-not-ours $f) { put $f } } $after-chdir) {|dir| __cove_hook }]
