# cove shell integration for PowerShell (SPEC §6; untested). Printed by `cove hook powershell`;
# in $PROFILE:
#   cove hook powershell | Out-String | Invoke-Expression
# Safe to evaluate again: the hook is registered once and the shims are put on PATH once.

$global:__cove_exe = __COVE_EXE__
$global:__cove_shims = __COVE_SHIMS__

# The shims first on PATH, once: moved to the front if something was put before them since.
$__cove_sep = [IO.Path]::PathSeparator
$__cove_entries = @($env:PATH -split [regex]::Escape($__cove_sep))
if ($__cove_entries[0] -ne $global:__cove_shims) {
    $env:PATH = (@($global:__cove_shims) + @($__cove_entries | Where-Object { $_ -ne $global:__cove_shims })) -join $__cove_sep
}

# Ask cove what to change for the current folder (`cove hook-env --json`) and apply it. A
# missing or failing binary makes this a silent no-op; $LASTEXITCODE is the user's again after.
function global:__cove_hook {
    $status = $global:LASTEXITCODE
    try {
        if (-not (Test-Path -LiteralPath $global:__cove_exe -PathType Leaf)) { return }
        $out = & $global:__cove_exe hook-env --json 2>$null
        if ($LASTEXITCODE -ne 0 -or -not $out) { return }
        $changes = ($out | Out-String) | ConvertFrom-Json
        foreach ($message in $changes.messages) { [Console]::Error.WriteLine($message) }
        foreach ($p in $changes.set.PSObject.Properties) { Set-Item -LiteralPath "env:$($p.Name)" -Value $p.Value }
        foreach ($name in $changes.unset) { Remove-Item -LiteralPath "env:$name" -ErrorAction SilentlyContinue }
    } finally {
        $global:LASTEXITCODE = $status
    }
}

# `cove off` / `cove on`: in this shell only, stop or resume activating, applied at once;
# anything else goes to the binary.
function global:cove {
    if ($args.Count -eq 1 -and $args[0] -eq 'off') {
        $env:__COVE_OFF = '1'; __cove_hook
    } elseif ($args.Count -eq 1 -and $args[0] -eq 'on') {
        Remove-Item env:__COVE_OFF -ErrorAction SilentlyContinue; __cove_hook
    } else {
        & $global:__cove_exe @args
    }
}

# At each prompt (which also follows every cd), once: the user's prompt function is kept and
# runs after the hook.
if (-not $global:__cove_user_prompt) {
    $global:__cove_user_prompt = $function:prompt
    function global:prompt { __cove_hook; & $global:__cove_user_prompt }
}
