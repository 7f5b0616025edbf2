//! Issue 12: the feel of a finished tool — progress, colour, completions, help.

mod common;
use common::*;

fn have(cmd: &str) -> bool {
    std::process::Command::new("sh")
        .args(["-c", &format!("command -v {cmd}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Run `cmd` under a pseudo-terminal (util-linux `script`), returning what the terminal showed.
fn on_a_terminal(t: &TestEnv, cwd: &std::path::Path, cmd: &str, extra_env: &[(&str, &str)]) -> (bool, String) {
    let mut c = t.cmd("script", cwd);
    c.args(["-qec", cmd, "/dev/null"]).env("TERM", "xterm");
    for (k, v) in extra_env {
        c.env(k, v);
    }
    let out = c.output().unwrap();
    (out.status.success(), stdout(&out))
}

#[test]
fn a_build_on_a_terminal_shows_one_live_line_replaced_by_a_summary() {
    if !have("script") {
        eprintln!("SKIPPED: `script` (util-linux) is not installed");
        return;
    }
    let t = TestEnv::new();
    let p = t.project("proj", &["alpha==1.0"]);
    t.trust(&p);
    t.shims_on();
    let py = t.shims().join("python");
    let (ok, screen) = on_a_terminal(&t, &p, &format!("{} -c 'print(42)' 2>/dev/tty", py.display()), &[]);
    assert!(ok, "{screen}");
    assert!(screen.contains("\r\x1b[2KBuilding env "), "a live line: {screen:?}");
    assert!(screen.contains("installing 1 requirement"), "{screen:?}");
    assert!(screen.contains("\r\x1b[2Kcove: built env "), "replaced by the summary: {screen:?}");
    assert!(!screen.contains("Successfully installed"), "installer output folded away: {screen:?}");
    assert!(screen.contains("42"));

    // Piped, the same build is plain lines, and stdout holds only the program's output.
    let q = t.project("piped", &["alpha==2.0"]);
    t.trust(&q);
    let out = t.shim("python", &q, &["-c", "print(42)"]);
    assert_eq!(stdout(&out), "42\n");
    let err = stderr(&out);
    assert!(!err.contains('\x1b') && !err.contains('\r'), "no escapes in a pipe: {err:?}");
    assert!(err.contains("cove: building env ") && err.contains("cove: built env "), "{err}");
}

#[test]
fn errors_are_red_on_a_terminal_and_plain_under_no_color_or_in_pipes() {
    if !have("script") {
        eprintln!("SKIPPED: `script` (util-linux) is not installed");
        return;
    }
    let t = TestEnv::new();
    let dir = t.path().join("empty");
    std::fs::create_dir_all(&dir).unwrap();
    let (_, screen) = on_a_terminal(&t, &dir, &format!("{COVE} sync"), &[]);
    assert!(screen.contains("\x1b[1m\x1b[31mcove: error:\x1b[0m no project found"), "{screen:?}");
    assert!(screen.contains("\x1b[2mhint:"), "{screen:?}");
    let (_, screen) = on_a_terminal(&t, &dir, &format!("{COVE} sync"), &[("NO_COLOR", "1")]);
    assert!(screen.starts_with("cove: error: no project found"), "{screen:?}");
    let out = t.cove(&dir, &["sync"]);
    assert!(stderr(&out).starts_with("cove: error: no project found"), "{}", stderr(&out));
}

#[test]
fn completions_load_in_real_shells() {
    let t = TestEnv::new();
    let dir = t.path();
    if have("bash") {
        let script = format!(
            "eval \"$({COVE} hook bash)\"; COMP_WORDS=(cove sy); COMP_CWORD=1; _cove cove sy cove; echo \"${{COMPREPLY[@]}}\""
        );
        let out = t.cmd("bash", dir).args(["-c", &script]).output().unwrap();
        assert!(stdout(&out).split_whitespace().any(|w| w == "sync"), "bash: {} {}", stdout(&out), stderr(&out));
    } else {
        eprintln!("SKIPPED: bash is not installed");
    }
    if have("fish") {
        let script = format!("{COVE} hook fish | source; complete -C 'cove sy'");
        let out = t.cmd("fish", dir).args(["-c", &script]).output().unwrap();
        assert!(stdout(&out).lines().any(|l| l.starts_with("sync")), "fish: {} {}", stdout(&out), stderr(&out));
    } else {
        eprintln!("SKIPPED: fish is not installed");
    }
    if have("zsh") {
        let script = format!("autoload -Uz compinit && compinit -u; eval \"$({COVE} hook zsh)\"; echo $_comps[cove]");
        let out = t.cmd("zsh", dir).args(["-c", &script]).output().unwrap();
        assert_eq!(stdout(&out).trim(), "_cove", "zsh: {}", stderr(&out));
    } else {
        eprintln!("SKIPPED: zsh is not installed");
    }
}

#[test]
fn help_gives_a_summary_and_an_example_for_every_command() {
    let t = TestEnv::new();
    let out = t.cove(t.path(), &[]);
    assert_ok(&out);
    assert!(stdout(&out).contains("cove init"), "{}", stdout(&out));
    let help = t.cove(t.path(), &["--help"]);
    let commands: Vec<String> = stdout(&help)
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .filter(|c| c != "help")
        .collect();
    assert!(commands.len() >= 10, "{commands:?}");
    for c in commands {
        let out = t.cove(t.path(), &[&c, "--help"]);
        assert_ok(&out);
        let text = stdout(&out);
        assert!(text.contains("Example"), "`cove {c} --help` has an example:\n{text}");
    }
}

#[test]
fn usage_errors_are_one_cove_error_line_and_exit_2() {
    let t = TestEnv::new();
    let out = t.cove(t.path(), &["synk"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        "cove: error: unrecognized subcommand 'synk' (a similar subcommand exists: 'sync')\n  hint: see `cove --help`\n"
    );
    let out = t.cove(t.path(), &["--backend", "conda", "status"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).starts_with("cove: error: unknown backend \"conda\""), "{}", stderr(&out));
}
