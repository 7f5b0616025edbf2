# cove shell integration for xonsh (SPEC §6). Printed by `cove hook xonsh`; in ~/.xonshrc:
#   execx($(cove hook xonsh))
# Safe to evaluate again: the hook is registered once and the shims are put on PATH once.

import json as _cove_json
import os as _cove_os
import subprocess as _cove_subprocess
import sys as _cove_sys

_cove_exe = __COVE_EXE__
_cove_shims = __COVE_SHIMS__

# The shims first on PATH, once: moved to the front if something was put before them since.
if len($PATH) == 0 or $PATH[0] != _cove_shims:
    while _cove_shims in $PATH:
        $PATH.remove(_cove_shims)
    $PATH.insert(0, _cove_shims)


def _cove_hook(**_):
    """Ask cove what to change for the current folder (`cove hook-env --json`) and apply it.
    A missing or failing binary makes this a silent no-op."""
    if not _cove_os.access(_cove_exe, _cove_os.X_OK):
        return
    env = __xonsh__.env
    try:
        run = _cove_subprocess.run(
            [_cove_exe, "hook-env", "--json"], stdout=_cove_subprocess.PIPE, env=env.detype()
        )
        changes = _cove_json.loads(run.stdout) if run.returncode == 0 else None
    except (OSError, ValueError):
        changes = None
    if not changes:
        return
    for message in changes["messages"]:
        print(message, file=_cove_sys.stderr)
    for name, value in changes["set"].items():
        env[name] = value
    for name in changes["unset"]:
        env.pop(name, None)


def _cove_alias(args):
    """`cove off` / `cove on`: in this shell only, stop or resume activating, applied at once;
    anything else goes to the binary."""
    if args in (["off"], ["on"]):
        if args[0] == "off":
            __xonsh__.env["__COVE_OFF"] = "1"
        else:
            __xonsh__.env.pop("__COVE_OFF", None)
        _cove_hook()
        return 0
    return _cove_subprocess.call([_cove_exe, *args], env=__xonsh__.env.detype())


aliases["cove"] = _cove_alias

# Before each prompt and on each cd, once: an earlier cove hook is replaced; others are kept.
for _cove_event in (events.on_pre_prompt, events.on_chdir):
    for _cove_old in [h for h in _cove_event if getattr(h, "__name__", "") == "_cove_hook"]:
        _cove_event.discard(_cove_old)
    _cove_event(_cove_hook)
del _cove_event
