//! Issue 4: shell integration, tested in real interactive bash, zsh and fish.
//!
//! Each session is the shell started interactively on a pseudo-terminal (so fish fires
//! `fish_prompt` and readline/ZLE are live) and fed a script as typed input; the script writes
//! what it sees into files, and the terminal's output is checked for the hook's messages. A
//! shell that is not installed prints `SKIPPED: <shell> not installed` and the test returns.
//!
//! Builds are slow (pip backend), so two environments (projects `a` and `b`) are built once per
//! test binary in a shared cove home and only read by the sessions; what a session builds
//! (its background prebuild) has a key of its own.

mod common;
use common::*;

use std::ffi::CStr;
use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::FromRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

// ---------------------------------------------------------------------------------------------
// Harness: shells, a pseudo-terminal, the shared built environments.

struct Shell {
    name: &'static str,
    args: &'static [&'static str],
    /// The line a user puts in the rc file, for the binary at `{cove}`.
    eval: &'static str,
    /// The last command's status.
    status: &'static str,
    /// A line that dumps what the hook registered, to `$R/{file}`.
    registrations: &'static str,
    /// A line that registers a user's own prompt hook writing `user:<status>` to `$R/user`.
    user_hook: &'static str,
    /// A line that waits (up to 60 s) until the file `{file}` exists.
    wait_for: &'static str,
    /// Type each line only once the shell shows its next prompt (answering its cursor-position
    /// queries): nushell drops typed-ahead input, and xonsh runs it without firing its prompt
    /// event.
    paced: bool,
}

const BASH: Shell = Shell {
    name: "bash",
    args: &["--norc", "--noprofile", "-i"],
    eval: r#"eval "$('{cove}' hook bash)""#,
    status: "$?",
    registrations: r#"printf '%s\n' "${PROMPT_COMMAND[@]}" > "$R/{file}""#,
    user_hook: r#"PROMPT_COMMAND='printf "user:%s\n" "$?" >> "$R/user"'"#,
    wait_for: r#"for i in $(seq 600); do [ -e '{file}' ] && break; sleep 0.1; done"#,
    paced: false,
};

const ZSH: Shell = Shell {
    name: "zsh",
    args: &["-f", "-i"],
    eval: r#"eval "$('{cove}' hook zsh)""#,
    status: "$?",
    registrations: r#"print -r -- "precmd: ${precmd_functions[*]}; chpwd: ${chpwd_functions[*]}" > "$R/{file}""#,
    user_hook: r#"user_hook() { print "user:$?" >> "$R/user" }; precmd_functions+=(user_hook)"#,
    wait_for: r#"for i in $(seq 600); do [ -e '{file}' ] && break; sleep 0.1; done"#,
    paced: false,
};

const FISH: Shell = Shell {
    name: "fish",
    args: &["--no-config", "-i"],
    eval: r#"'{cove}' hook fish | source"#,
    status: "$status",
    registrations: r#"functions --handlers | string match -e cove_hook > "$R/{file}""#,
    user_hook: r#"function user_hook --on-event fish_prompt; echo "user:$status" >> "$R/user"; end"#,
    wait_for: r#"for i in (seq 600); test -e '{file}'; and break; sleep 0.1; end"#,
    paced: false,
};

fn installed(program: &str) -> bool {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path).any(|d| d.join(program).is_file())
}

/// `true` (after printing the notice) when `shell` is missing here.
fn skip(shell: &Shell) -> bool {
    if installed(shell.name) {
        return false;
    }
    eprintln!("SKIPPED: {} not installed (.ci/run installs it)", shell.name);
    true
}

/// A fresh [`TestEnv`] for a test of `shell`, or `None` (after printing the notice) when
/// `shell` is missing here.
fn fresh(shell: &Shell) -> Option<TestEnv> {
    (!skip(shell)).then(TestEnv::new)
}

/// A script line appending `what` (expanded by the shell) to `$R/log`.
fn log(what: &str) -> String {
    format!(r#"printf '%s\n' "{what}" >> "$R/log""#)
}

/// What an interactive session left behind.
struct Session {
    /// Everything the terminal showed (typed input echoed, prompts, the hook's messages).
    terminal: String,
    /// The folder the script wrote its findings to (`$R`).
    results: PathBuf,
}

impl Session {
    fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.results.join(name)).unwrap_or_default()
    }
}

/// Run `shell` interactively on a pseudo-terminal in `cwd`, typing `lines` (and `exit`), with
/// the test's clean environment plus `env`. The hook's PATH starts as the outer PATH, without
/// the shims: the hook puts them there.
fn interactive(t: &TestEnv, shell: &Shell, cwd: &Path, lines: &[String], env: &[(&str, &str)]) -> Session {
    static SESSIONS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = SESSIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let results = t.path().join(format!("session-{}-{n}", shell.name));
    let home = results.join("home");
    std::fs::create_dir_all(&home).unwrap();
    let mut cmd = t.cmd(shell.name, cwd);
    cmd.args(shell.args)
        .env("PATH", &t.base_path)
        .env("HOME", &home)
        .env("TERM", "dumb")
        .env("R", &results)
        .env("COVE_PYTHON", system_python());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut input = String::new();
    for line in lines {
        input.push_str(line);
        input.push('\n');
    }
    input.push_str("exit\n");
    let terminal = run_on_pty(cmd, &input, shell.paced, Duration::from_secs(180));
    Session { terminal, results }
}

/// What starts a prompt in a paced shell: its line editor turning bracketed paste on.
const PROMPT_MARK: &[u8] = b"\x1b[?2004h";
/// A terminal's cursor-position query, answered with "row 1, column 1".
const CURSOR_QUERY: &[u8] = b"\x1b[6n";

fn count(haystack: &[u8], needle: &[u8]) -> usize {
    haystack.windows(needle.len()).filter(|w| *w == needle).count()
}

/// Start `cmd` as the session leader of a new pseudo-terminal, type `input` (all at once, or
/// `paced`: a line at each new prompt once the terminal has been quiet a moment), and return
/// what the terminal showed once the process has exited.
fn run_on_pty(mut cmd: Command, input: &str, paced: bool, timeout: Duration) -> String {
    // SAFETY: plain libc calls on a descriptor this function owns; errors are checked.
    let (master, slave_path) = unsafe {
        let fd = libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY);
        assert!(fd >= 0, "posix_openpt: {}", std::io::Error::last_os_error());
        assert_eq!(libc::grantpt(fd), 0);
        assert_eq!(libc::unlockpt(fd), 0);
        let mut name = [0 as libc::c_char; 128];
        assert_eq!(libc::ptsname_r(fd, name.as_mut_ptr(), name.len()), 0);
        let size = libc::winsize { ws_row: 50, ws_col: 250, ws_xpixel: 0, ws_ypixel: 0 };
        libc::ioctl(fd, libc::TIOCSWINSZ, &size);
        (File::from_raw_fd(fd), CStr::from_ptr(name.as_ptr()).to_string_lossy().into_owned())
    };
    let slave = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_NOCTTY)
        .open(&slave_path)
        .expect("open the pty's slave");
    cmd.stdin(slave.try_clone().unwrap()).stdout(slave.try_clone().unwrap()).stderr(slave);
    // SAFETY: setsid and ioctl are async-signal-safe.
    unsafe {
        cmd.pre_exec(|| {
            if libc::setsid() < 0 || libc::ioctl(0, libc::TIOCSCTTY, 0) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = cmd.spawn().expect("start the shell");
    drop(cmd); // closes this process's copies of the slave, so reads end when the shell exits

    let mut reader = master.try_clone().unwrap();
    let mut typist = master.try_clone().unwrap();
    let mut lines: Vec<String> = if paced { input.lines().map(|l| format!("{l}\n")).collect() } else { Vec::new() };
    lines.reverse();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::os::fd::AsRawFd;
        let mut seen = Vec::new();
        let mut chunk = [0u8; 4096];
        let mut typed_at = 0;
        loop {
            if paced {
                let mut pfd = libc::pollfd { fd: reader.as_raw_fd(), events: libc::POLLIN, revents: 0 };
                // SAFETY: one valid pollfd.
                if unsafe { libc::poll(&mut pfd, 1, 150) } == 0 {
                    // Quiet: type the next line once a prompt came since the last one typed.
                    let prompts = count(&seen, PROMPT_MARK);
                    if prompts > typed_at
                        && let Some(line) = lines.pop()
                    {
                        typed_at = prompts;
                        let _ = typist.write_all(line.as_bytes());
                    }
                    continue;
                }
            }
            match reader.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => {
                    seen.extend_from_slice(&chunk[..n]);
                    if paced {
                        for _ in 0..count(&chunk[..n], CURSOR_QUERY) {
                            let _ = typist.write_all(b"\x1b[1;1R");
                        }
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(_) => break, // EIO: every slave descriptor is closed
            }
        }
        let _ = tx.send(seen);
    });
    let mut writer = master;
    if !paced {
        writer.write_all(input.as_bytes()).expect("type into the terminal");
    }

    let deadline = Instant::now() + timeout;
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            let seen = rx.recv_timeout(Duration::from_secs(5)).unwrap_or_default();
            panic!("the shell did not finish in {timeout:?}; terminal:\n{}", String::from_utf8_lossy(&seen));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let seen = rx.recv_timeout(Duration::from_secs(10)).expect("the terminal closes after the shell exits");
    String::from_utf8_lossy(&seen).replace('\r', "")
}

/// A command in `t` whose interpreter choice matches the sessions' (`COVE_PYTHON`), so a
/// session and the test compute the same keys whatever PATH holds.
fn cove(t: &TestEnv, dir: &Path, args: &[&str]) -> std::process::Output {
    t.cmd(COVE, dir).env("COVE_PYTHON", system_python()).args(args).output().expect("run cove")
}

fn env_of(t: &TestEnv, dir: &Path) -> String {
    let out = cove(t, dir, &["status", "--json"]);
    assert_ok(&out);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v["env"].as_str().unwrap().to_string()
}

/// The shared cove home with projects `a` (alpha 1.0) and `b` (alpha 2.0), trusted and built.
struct Built {
    t: TestEnv,
    a: PathBuf,
    b: PathBuf,
    env_a: String,
    env_b: String,
}

fn built() -> &'static Built {
    static BUILT: OnceLock<Built> = OnceLock::new();
    BUILT.get_or_init(|| {
        let t = TestEnv::new();
        let a = t.project("a", &["alpha==1.0"]);
        let b = t.project("b", &["alpha==2.0"]);
        std::fs::create_dir_all(b.join("src/deep")).unwrap();
        for p in [&a, &b] {
            assert_ok(&cove(&t, p, &["trust"]));
            assert_ok(&cove(&t, p, &["sync", "--quiet"]));
        }
        let (env_a, env_b) = (env_of(&t, &a), env_of(&t, &b));
        // A static is never dropped: remove its folder when the test binary exits.
        SHARED_ROOT.set(t.path().to_path_buf()).unwrap();
        // SAFETY: registers a plain extern "C" function; it runs once, at exit.
        unsafe { libc::atexit(remove_shared_root) };
        Built { t, a, b, env_a, env_b }
    })
}

static SHARED_ROOT: OnceLock<PathBuf> = OnceLock::new();

extern "C" fn remove_shared_root() {
    if let Some(root) = SHARED_ROOT.get() {
        let _ = std::fs::remove_dir_all(root);
    }
}

fn q(p: &Path) -> String {
    format!("'{}'", p.display())
}

fn fill(template: &str, key: &str, value: &str) -> String {
    template.replace(&format!("{{{key}}}"), value)
}

// ---------------------------------------------------------------------------------------------
// The whole journey, once per shell.

/// After the hook: entering a built project activates it and its console script runs from it;
/// `$?` survives the hook and the user's own hook keeps running; a second project switches; a
/// new trusted project is built in the background and then activated; an untrusted one is
/// said once and never built; leaving gives PATH back byte for byte; evaluating the hook again
/// changes nothing.
fn journey(shell: &Shell, c_deps: &[&str], c_version: &str) {
    if skip(shell) {
        return;
    }
    let s = built();
    let t = &s.t;
    let name = shell.name;
    let c = t.project(&format!("c-{name}"), c_deps);
    assert_ok(&cove(t, &c, &["trust"]));
    let env_c = env_of(t, &c);
    let untrusted = t.project(&format!("untrusted-{name}"), &["delta"]);
    let outside = t.path().join(format!("outside-{name}"));
    std::fs::create_dir_all(&outside).unwrap();
    let cove_exe = Path::new(COVE);
    let eval = fill(shell.eval, "cove", &cove_exe.display().to_string());
    let st = shell.status;

    let lines = vec![
        r#"printf '%s' "$PATH" > "$R/path-before""#.to_string(),
        shell.user_hook.to_string(),
        eval.clone(),
        r#"printf '%s' "$PATH" > "$R/path0""#.to_string(),
        fill(shell.registrations, "file", "reg0"),
        eval.clone(),
        r#"printf '%s' "$PATH" > "$R/path1""#.to_string(),
        fill(shell.registrations, "file", "reg1"),
        format!("cd {}", q(&s.a)),
        log("a ve=$VIRTUAL_ENV project=$COVE_PROJECT"),
        r#"alpha-cli >> "$R/log""#.to_string(),
        "false".to_string(),
        log(&format!("status={st}")),
        format!("cd {}", q(&s.b.join("src/deep"))),
        log("b ve=$VIRTUAL_ENV project=$COVE_PROJECT"),
        r#"alpha-cli >> "$R/log""#.to_string(),
        format!("cd {}", q(&outside)),
        r#"printf '%s' "$PATH" > "$R/path2""#.to_string(),
        log("out ve=[$VIRTUAL_ENV] project=[$COVE_PROJECT]"),
        format!("cd {}", q(&untrusted)),
        log("untrusted ve=[$VIRTUAL_ENV]"),
        format!("cd {}", q(&outside)),
        format!("cd {}", q(&untrusted)),
        format!("cd {}", q(&outside)),
        format!("cd {}", q(&c)),
        // The prompt right after the build finished activates it (issue 18.5).
        fill(shell.wait_for, "file", &format!("{env_c}/.cove-ready")),
        log("c ve=$VIRTUAL_ENV"),
        r#"alpha-cli >> "$R/log""#.to_string(),
        format!("cd {}", q(&outside)),
        r#"printf '%s' "$PATH" > "$R/path3""#.to_string(),
        log("end ve=[$VIRTUAL_ENV]"),
    ];
    let session = interactive(t, shell, &outside, &lines, &[]);
    let term = &session.terminal;
    let context = format!("{name} session\n--- terminal:\n{term}\n--- log:\n{}", session.read("log"));

    let shims = t.shims().display().to_string();
    let path_before = session.read("path-before");
    assert_eq!(session.read("path0"), format!("{shims}:{path_before}"), "shims first on PATH: {context}");
    assert_eq!(session.read("path1"), session.read("path0"), "a second eval leaves PATH alone: {context}");
    assert_eq!(session.read("reg1"), session.read("reg0"), "a second eval registers nothing new: {context}");
    assert_eq!(session.read("reg0").matches("cove_hook").count(), if name == "bash" { 1 } else { 2 }, "{context}");

    let expected = [
        format!("a ve={} project={}", s.env_a, s.a.display()),
        "alpha-cli 1.0".to_string(),
        "status=1".to_string(),
        format!("b ve={} project={}", s.env_b, s.b.display()),
        "alpha-cli 2.0".to_string(),
        "out ve=[] project=[]".to_string(),
        "untrusted ve=[]".to_string(),
        format!("c ve={env_c}"),
        format!("alpha-cli {c_version}"),
        "end ve=[]".to_string(),
    ];
    let got: Vec<String> = session.read("log").lines().map(str::to_string).collect();
    assert_eq!(got, expected, "{context}");

    assert_eq!(session.read("path2"), session.read("path0"), "leaving restores PATH byte for byte: {context}");
    assert_eq!(session.read("path3"), session.read("path0"), "{context}");

    let user = session.read("user");
    assert!(user.lines().count() >= 20, "the user's own hook still runs at every prompt: {user}");
    assert!(user.contains("user:1"), "the user's hook sees the failed command's status: {user}");

    assert_eq!(term.matches("is not trusted").count(), 1, "untrusted said once: {context}");
    assert_eq!(term.matches("in the background").count(), 1, "prebuild said once: {context}");
    assert!(!term.contains("cove: error"), "{context}");
    let st = cove(t, &untrusted, &["status", "--json"]);
    assert!(stdout(&st).contains(r#""state": "missing""#), "untrusted is never built: {}", stdout(&st));
}

#[test]
fn bash_activates_switches_prebuilds_and_restores() {
    journey(&BASH, &["alpha==1.0", "beta"], "1.0");
}

#[test]
fn zsh_activates_switches_prebuilds_and_restores() {
    journey(&ZSH, &["alpha==2.0", "beta"], "2.0");
}

#[test]
fn fish_activates_switches_prebuilds_and_restores() {
    journey(&FISH, &["alpha==1.0", "gamma"], "1.0");
}

// ---------------------------------------------------------------------------------------------
// Robustness, without builds.

/// The binary removed after the hook was evaluated: prompts stay silent, the shell stays usable.
fn binary_deleted(shell: &Shell) {
    let Some(t) = fresh(shell) else { return };
    let bin = t.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let copy = bin.join("cove");
    std::fs::copy(COVE, &copy).unwrap();
    let somewhere = t.path().join("somewhere");
    std::fs::create_dir_all(&somewhere).unwrap();
    let eval = fill(shell.eval, "cove", &copy.display().to_string());
    let lines = vec![
        eval,
        format!("cd {}", q(&somewhere)),
        format!("rm {}", q(&copy)),
        "cd /".to_string(),
        "false".to_string(),
        log(&format!("status={}", shell.status)),
        format!("cd {}", q(t.path())),
        r#"python3 -c 'print("python still runs")' >> "$R/log""#.to_string(),
    ];
    let session = interactive(&t, shell, t.path(), &lines, &[]);
    let term = &session.terminal;
    assert!(!copy.exists());
    for noise in ["No such file", "not found", "Unknown command", "rror"] {
        assert!(!term.contains(noise), "{} printed {noise:?} after the binary went:\n{term}", shell.name);
    }
    assert_eq!(session.read("log"), "status=1\npython still runs\n", "{term}");
}

#[test]
fn bash_stays_silent_when_the_binary_is_gone() {
    binary_deleted(&BASH);
}

#[test]
fn zsh_stays_silent_when_the_binary_is_gone() {
    binary_deleted(&ZSH);
}

#[test]
fn fish_stays_silent_when_the_binary_is_gone() {
    binary_deleted(&FISH);
}

/// bash ≥ 5.1's array PROMPT_COMMAND: the hook goes first, once; the user's entry stays and sees
/// `$?`; all of it under `set -u`.
#[test]
fn bash_array_prompt_command_under_set_u() {
    let Some(t) = fresh(&BASH) else { return };
    let eval = fill(BASH.eval, "cove", COVE);
    let lines = vec![
        "set -u".to_string(),
        r#"PROMPT_COMMAND=('printf "user:%s\n" "$?" >> "$R/user"')"#.to_string(),
        eval.clone(),
        eval,
        r#"declare -p PROMPT_COMMAND > "$R/pc""#.to_string(),
        "false".to_string(),
        r#"printf 'status=%s\n' "$?" >> "$R/log""#.to_string(),
    ];
    let session = interactive(&t, &BASH, t.path(), &lines, &[]);
    let pc = session.read("pc");
    assert!(pc.starts_with(r#"declare -a PROMPT_COMMAND=([0]="_cove_hook" [1]="printf"#), "{pc}");
    assert_eq!(pc.matches("_cove_hook").count(), 1, "{pc}");
    assert_eq!(session.read("log"), "status=1\n", "{}", session.terminal);
    assert!(session.read("user").contains("user:1"), "{}", session.read("user"));
    assert!(!session.terminal.contains("unbound variable"), "{}", session.terminal);
}

/// With bash-preexec loaded, the hook goes into its precmd_functions (bash-preexec rewrites
/// PROMPT_COMMAND), once.
#[test]
fn bash_with_bash_preexec_uses_precmd_functions() {
    let Some(t) = fresh(&BASH) else { return };
    let eval = fill(BASH.eval, "cove", COVE);
    let lines = vec![
        "__bp_imported=defined; precmd_functions=(my_precmd); PROMPT_COMMAND='__bp_precmd_invoke_cmd'".to_string(),
        eval.clone(),
        eval,
        r#"printf '%s|%s\n' "${precmd_functions[*]}" "$PROMPT_COMMAND" > "$R/reg""#.to_string(),
    ];
    let session = interactive(&t, &BASH, t.path(), &lines, &[]);
    assert_eq!(session.read("reg"), "_cove_hook my_precmd|__bp_precmd_invoke_cmd\n", "{}", session.terminal);
}

/// `prebuild = false` (here `COVE_PREBUILD=0`): entering a trusted project without its
/// environment starts nothing and says nothing.
#[test]
fn no_background_build_when_prebuild_is_off() {
    let Some(t) = fresh(&BASH) else { return };
    let p = t.project("proj", &["alpha==1.0"]);
    assert_ok(&cove(&t, &p, &["trust"]));
    let lines = vec![
        fill(BASH.eval, "cove", COVE),
        format!("cd {}", q(&p)),
        "sleep 1".to_string(),
        r#"printf 've=[%s]\n' "${VIRTUAL_ENV-}" >> "$R/log""#.to_string(),
    ];
    let session = interactive(&t, &BASH, t.path(), &lines, &[("COVE_PREBUILD", "0")]);
    assert_eq!(session.read("log"), "ve=[]\n", "{}", session.terminal);
    assert!(!session.terminal.contains("background"), "{}", session.terminal);
    assert!(t.envs().is_empty(), "nothing built: {:?}", t.envs());
    assert!(!t.cache.join("logs").exists(), "nothing started");
}

// ---------------------------------------------------------------------------------------------
// `cove hook-env` as a command, and the console-script shims.

fn hook_env(t: &TestEnv, dir: &Path, state: Option<&str>) -> std::process::Output {
    let mut cmd = t.cmd(COVE, dir);
    cmd.env("COVE_PYTHON", system_python()).args(["hook-env", "bash"]);
    if let Some(s) = state {
        cmd.env("__COVE_STATE", s);
    }
    cmd.output().unwrap()
}

fn state_in(code: &str) -> String {
    let line = code.lines().find(|l| l.starts_with("export __COVE_STATE=")).expect("the state is exported");
    line["export __COVE_STATE=".len()..].trim_matches('\'').to_string()
}

/// `cove hook-env ARGS` in `dir` with the shell's variables as `vars` left them.
fn hook_env_with(t: &TestEnv, dir: &Path, args: &[&str], vars: &[(String, String)]) -> std::process::Output {
    let mut cmd = t.cmd(COVE, dir);
    cmd.env("COVE_PYTHON", system_python()).arg("hook-env").args(args);
    for (k, v) in vars {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

/// The shell's variables after it applied `code` (bash, values without a quote in them) over
/// `vars`, starting from the test's PATH.
fn applied(t: &TestEnv, vars: &[(String, String)], code: &str) -> Vec<(String, String)> {
    let mut vars = vars.to_vec();
    if !vars.iter().any(|(k, _)| k == "PATH") {
        vars.push(("PATH".into(), format!("{}:{}", t.shims().display(), t.base_path)));
    }
    for line in code.lines() {
        if let Some(rest) = line.strip_prefix("export ") {
            let (k, v) = rest.split_once('=').unwrap();
            vars.retain(|(n, _)| n != k);
            vars.push((k.to_string(), v.trim_matches('\'').to_string()));
        } else if let Some(k) = line.strip_prefix("unset ") {
            vars.retain(|(n, _)| n != k);
        }
    }
    vars
}

#[test]
fn hook_env_prints_nothing_outside_projects_and_nothing_when_steady() {
    let s = built();
    let out = hook_env(&s.t, s.t.path(), None);
    assert_ok(&out);
    assert_eq!((stdout(&out), stderr(&out)), (String::new(), String::new()));

    let enter = hook_env(&s.t, &s.a, None);
    assert_ok(&enter);
    let code = stdout(&enter);
    assert!(code.contains(&format!("export VIRTUAL_ENV='{}'\n", s.env_a)), "{code}");
    assert!(code.contains(&format!("export COVE_PROJECT='{}'\n", s.a.display())), "{code}");
    assert!(code.contains("export VIRTUAL_ENV_PROMPT='a'\n"), "the prompt name is the folder's: {code}");
    let vars = applied(&s.t, &[], &code);
    let again = hook_env_with(&s.t, &s.a, &["bash"], &vars);
    assert_ok(&again);
    assert_eq!((stdout(&again), stderr(&again)), (String::new(), String::new()));

    // Leaving unsets the prompt name with the rest.
    let left = stdout(&hook_env_with(&s.t, s.t.path(), &["bash"], &vars));
    assert!(left.contains("unset VIRTUAL_ENV\nunset VIRTUAL_ENV_PROMPT\nunset COVE_PROJECT\n"), "{left}");
}

/// `cove hook-env --json`: one object with `set`, `unset` and `messages`, the same decision as
/// the shell code.
#[test]
fn hook_env_json_sets_unsets_and_carries_messages() {
    let s = built();
    let t = &s.t;
    let json = |dir: &Path, vars: &[(String, String)]| -> serde_json::Value {
        let out = hook_env_with(t, dir, &["--json"], vars);
        assert_ok(&out);
        assert_eq!(stderr(&out), "", "messages go in the object");
        serde_json::from_slice(&out.stdout).expect("one JSON object")
    };
    let steady = json(t.path(), &[]);
    assert_eq!(steady, serde_json::json!({ "set": {}, "unset": [], "messages": [] }));

    let entered = json(&s.a, &[]);
    let set = entered["set"].as_object().unwrap();
    assert_eq!(set["VIRTUAL_ENV"], s.env_a.as_str(), "{entered}");
    assert_eq!(set["COVE_PROJECT"], s.a.display().to_string().as_str());
    assert_eq!(set["VIRTUAL_ENV_PROMPT"], "a");
    assert!(set["PATH"].as_str().unwrap().starts_with(&format!("{}:{}/bin:", t.shims().display(), s.env_a)));
    assert!(set["__COVE_STATE"].as_str().unwrap().starts_with("cove1;s=active;"));
    assert_eq!((entered["unset"].clone(), entered["messages"].clone()), (serde_json::json!([]), serde_json::json!([])));

    let vars: Vec<(String, String)> = set.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string())).collect();
    assert_eq!(json(&s.a, &vars), steady, "steady inside too");
    let left = json(t.path(), &vars);
    assert_eq!(left["unset"], serde_json::json!(["VIRTUAL_ENV", "VIRTUAL_ENV_PROMPT", "COVE_PROJECT"]), "{left}");
    assert_eq!(left["set"]["PATH"], format!("{}:{}", t.shims().display(), t.base_path).as_str());

    let untrusted = t.project("untrusted-json", &["alpha==1.0"]);
    let told = json(&untrusted, &[]);
    let messages = told["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 1, "{told}");
    assert!(messages[0].as_str().unwrap().contains("is not trusted"), "{told}");
}

/// Issue 18.5: an edit that takes the trust of the active manifest is said at once, naming the
/// change and the command, even where "not trusted" was said before `cove trust`; and the
/// environment goes off in the same prompt.
#[test]
fn losing_trust_by_an_edit_is_said_when_it_happens() {
    let s = built();
    let t = &s.t;
    let p = t.project("lapse", &["alpha==1.0"]);
    let first = hook_env_with(t, &p, &["bash"], &[]);
    assert!(stderr(&first).contains("is not trusted"), "{}", stderr(&first));
    let vars = applied(t, &[], &stdout(&first));
    assert_ok(&cove(t, &p, &["trust"]));
    let trusted = hook_env_with(t, &p, &["bash"], &vars);
    assert!(stdout(&trusted).contains("export VIRTUAL_ENV="), "same key as `a`, so built: {}", stdout(&trusted));
    let vars = applied(t, &vars, &stdout(&trusted));

    std::thread::sleep(Duration::from_millis(20));
    t.write_cove_toml(&p, &["alpha>=1.0"]);
    let edited = hook_env_with(t, &p, &["bash"], &vars);
    let err = stderr(&edited);
    assert_eq!(
        err,
        "cove: cove.toml changed (~alpha==1.0 → alpha>=1.0); the environment is off until `cove trust`\n",
        "{}",
        stdout(&edited)
    );
    assert!(stdout(&edited).contains("unset VIRTUAL_ENV\n"), "{}", stdout(&edited));
    let vars = applied(t, &vars, &stdout(&edited));
    let again = hook_env_with(t, &p, &["bash"], &vars);
    assert_eq!((stdout(&again), stderr(&again)), (String::new(), String::new()), "said once");
}

/// Issue 18.5: a background build that finished before this prompt is active at this prompt,
/// even while the process that ran it is still there (not yet reaped), when the key was not
/// known as it started (no interpreter facts cached).
#[test]
fn a_finished_background_build_activates_at_the_next_prompt() {
    let t = TestEnv::new();
    let p = t.project("proj", &["alpha==2.0"]);
    assert_ok(&cove(&t, &p, &["trust"]));
    let enter = hook_env(&t, &p, None);
    assert!(stderr(&enter).contains("in the background"), "{}", stderr(&enter));
    let state = state_in(&stdout(&enter));
    assert!(state.starts_with("cove1;s=pending;") && !state.contains(";e="), "the key is not known yet: {state}");
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let st = cove(&t, &p, &["status", "--json"]);
        if stdout(&st).contains(r#""state": "ready""#) && !a_lock_is_held(&t) {
            break;
        }
        assert!(Instant::now() < deadline, "the background build did not finish: {}", stdout(&st));
        std::thread::sleep(Duration::from_millis(100));
    }
    // The build's process as a live one (say, not reaped yet), started just now.
    let mut fields: Vec<String> = state.split(';').map(str::to_string).collect();
    for f in &mut fields {
        if f.starts_with("p=") {
            *f = format!("p={}", std::process::id());
        } else if f.starts_with("at=") {
            let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap();
            *f = format!("at={}", now.as_secs());
        }
    }
    let state = fields.join(";");
    let next = hook_env(&t, &p, Some(&state));
    assert!(stdout(&next).contains("export VIRTUAL_ENV="), "active at this prompt: {}", stdout(&next));
}

#[test]
fn hook_env_says_untrusted_once_per_folder_and_builds_nothing() {
    let t = TestEnv::new();
    let p = t.project("proj", &["alpha==1.0"]);
    let first = hook_env(&t, &p, None);
    assert_ok(&first);
    let err = stderr(&first);
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(err.contains("is not trusted") && err.contains("`cove trust`"), "{err}");
    let state = state_in(&stdout(&first));
    let second = hook_env(&t, &p, Some(&state));
    assert_eq!((stdout(&second), stderr(&second)), (String::new(), String::new()));
    // Leaving and coming back: still not said again.
    let left = hook_env(&t, t.path(), Some(&state));
    let back = hook_env(&t, &p, Some(&state_in(&stdout(&left))));
    assert_eq!(stderr(&back), "");
    assert!(t.envs().is_empty() && !t.cache.join("logs").exists(), "nothing built or started");
}

#[test]
fn hook_env_reports_an_invalid_manifest_once() {
    let t = TestEnv::new();
    let p = t.path().join("proj");
    std::fs::create_dir_all(&p).unwrap();
    std::fs::write(p.join("cove.toml"), "dependencies = [\n").unwrap();
    let first = hook_env(&t, &p, None);
    assert_ok(&first);
    assert!(stderr(&first).starts_with("cove: error: "), "{}", stderr(&first));
    assert!(stderr(&first).contains("cove.toml:"), "names the file: {}", stderr(&first));
    let second = hook_env(&t, &p, Some(&state_in(&stdout(&first))));
    assert_eq!((stdout(&second), stderr(&second)), (String::new(), String::new()));
}

#[test]
fn console_scripts_work_in_a_plain_sh_with_only_the_shims_on_path() {
    let s = built();
    let t = &s.t;
    let sh = |dir: &Path| {
        t.cmd("/bin/sh", t.path())
            .env("PATH", t.shims())
            .env("COVE_PYTHON", system_python())
            .args(["-c", &format!("cd {} && alpha-cli", q(dir))])
            .output()
            .unwrap()
    };
    let out = sh(&s.a);
    assert_stdout(&out, "alpha-cli 1.0\n");
    let out = sh(&s.b.join("src"));
    assert_stdout(&out, "alpha-cli 2.0\n");

    let nowhere = t.path().join("no-project");
    std::fs::create_dir_all(&nowhere).unwrap();
    let out = sh(&nowhere);
    assert_eq!(out.status.code(), Some(127), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.starts_with("cove: error: alpha-cli: command not found\n  hint: "), "{err}");
}

/// The hook never starts Python: with no interpreter facts cached it cannot know the key, so
/// (prebuild off) it waits, and decides once something else has cached them.
#[test]
fn hook_env_never_starts_python() {
    let t = TestEnv::new();
    let p = t.project("proj", &["alpha==1.0"]);
    assert_ok(&cove(&t, &p, &["trust"]));
    let hook_env_noprebuild = |state: Option<&str>| {
        let mut cmd = t.cmd(COVE, &p);
        cmd.env("COVE_PYTHON", system_python()).env("COVE_PREBUILD", "0").args(["hook-env", "bash"]);
        if let Some(s) = state {
            cmd.env("__COVE_STATE", s);
        }
        cmd.output().unwrap()
    };
    let first = hook_env_noprebuild(None);
    assert_ok(&first);
    assert_eq!(stderr(&first), "");
    let state = state_in(&stdout(&first));
    assert!(state.starts_with("cove1;s=unknown;"), "{state}");
    assert!(!t.cache.join("interpreters").exists(), "no interpreter was probed");
    let again = hook_env_noprebuild(Some(&state));
    assert_eq!(stdout(&again), "", "steady while nothing changed");

    // Anything that runs Python caches its facts; the next prompt then knows the key.
    assert_ok(&cove(&t, &p, &["status"]));
    let after = hook_env_noprebuild(Some(&state));
    assert!(state_in(&stdout(&after)).starts_with("cove1;s=missing;"), "{}", stdout(&after));
}

/// A `python` typed while the hook's background build runs waits for it; the key is built once.
#[test]
fn python_typed_during_a_background_build_waits_for_it() {
    let t = TestEnv::new();
    let p = t.project("proj", &["alpha==2.0"]);
    assert_ok(&cove(&t, &p, &["trust"]));
    assert_ok(&cove(&t, &p, &["status"])); // cache the interpreter's facts, as any earlier run would
    let enter = hook_env(&t, &p, None);
    assert_ok(&enter);
    assert!(stderr(&enter).contains("in the background"), "{}", stderr(&enter));
    let state = state_in(&stdout(&enter));
    assert!(state.starts_with("cove1;s=pending;"), "{state}");

    t.shims_on();
    let out = t
        .cmd(t.shims().join("python"), &p)
        .env("COVE_PYTHON", system_python())
        .args(["-c", "import alpha; print(alpha.__version__)"])
        .output()
        .unwrap();
    assert_stdout(&out, "2.0\n");
    let deadline = Instant::now() + Duration::from_secs(60);
    while a_lock_is_held(&t) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let log = std::fs::read_to_string(prebuild_log(&t)).unwrap();
    let builds =
        stderr(&out).matches("cove: building environment").count() + log.matches("cove: building environment").count();
    assert_eq!(builds, 1, "one build\n--- python:\n{}\n--- prebuild log:\n{log}", stderr(&out));
    assert_eq!(t.envs().len(), 1);

    // The next prompt activates it.
    let next = hook_env(&t, &p, Some(&state));
    assert!(stdout(&next).contains("export VIRTUAL_ENV="), "{}", stdout(&next));
}

fn prebuild_log(t: &TestEnv) -> PathBuf {
    std::fs::read_dir(t.cache.join("logs"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.file_name().unwrap().to_string_lossy().starts_with("prebuild-"))
        .expect("the prebuild's log")
}

/// Whether some process still holds one of `t`'s build locks.
fn a_lock_is_held(t: &TestEnv) -> bool {
    std::fs::read_dir(t.cache.join("locks")).into_iter().flatten().flatten().any(|e| {
        let f = File::open(e.path()).unwrap();
        matches!(f.try_lock(), Err(std::fs::TryLockError::WouldBlock))
    })
}

/// `cove shims --rebuild` drops console-script links to nothing or to an older cove binary (a
/// moved install), and what is not cove's link (issue 16: the shims folder is cove's alone).
#[test]
fn shims_rebuild_drops_stale_links() {
    let t = TestEnv::new();
    t.shims_on();
    let old = t.path().join("old-install/cove");
    std::fs::create_dir_all(old.parent().unwrap()).unwrap();
    std::fs::write(&old, "").unwrap();
    std::os::unix::fs::symlink(&old, t.shims().join("from-old-cove")).unwrap();
    std::os::unix::fs::symlink(t.path().join("gone/cove"), t.shims().join("dangling")).unwrap();
    std::fs::write(t.shims().join("users-own-file"), "").unwrap();
    assert_ok(&cove(&t, t.path(), &["shims", "--rebuild"]));
    let mut names: Vec<String> =
        std::fs::read_dir(t.shims()).unwrap().flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    assert_eq!(names, ["pip", "pip3", "python", "python3"]);
}

/// Evaluating the hook again after something was put before the shims moves them back to the
/// front (and keeps a single copy), leaving the rest of PATH as it was.
fn reeval_puts_the_shims_first_again(shell: &Shell, prepend: &str) {
    let Some(t) = fresh(shell) else { return };
    let eval = fill(shell.eval, "cove", COVE);
    let lines = vec![
        r#"printf '%s' "$PATH" > "$R/before""#.to_string(),
        eval.clone(),
        prepend.to_string(),
        eval,
        r#"printf '%s' "$PATH" > "$R/after""#.to_string(),
    ];
    let session = interactive(&t, shell, t.path(), &lines, &[]);
    let expected = format!("{}:/opt/extra/bin:{}", t.shims().display(), session.read("before"));
    assert_eq!(session.read("after"), expected, "{}", session.terminal);
}

#[test]
fn bash_reeval_puts_the_shims_first_again() {
    reeval_puts_the_shims_first_again(&BASH, r#"PATH="/opt/extra/bin:$PATH""#);
}

#[test]
fn zsh_reeval_puts_the_shims_first_again() {
    reeval_puts_the_shims_first_again(&ZSH, r#"PATH="/opt/extra/bin:$PATH""#);
}

#[test]
fn fish_reeval_puts_the_shims_first_again() {
    reeval_puts_the_shims_first_again(&FISH, "set -gx PATH /opt/extra/bin $PATH");
}

// ---------------------------------------------------------------------------------------------
// A user's own venv, and `cove off` / `cove on`.

/// Issue 18.3: a venv the user activates in a project is left alone (cove does not replace its
/// `VIRTUAL_ENV`, not even on leaving), and once its `deactivate` restored the PATH it saved
/// (with cove's environment in it) outside any project, the next prompt takes cove's entry out:
/// PATH is as before the project, byte for byte. Inside, the prompt name is the folder's.
fn users_venv_is_left_alone(shell: &Shell, activate: &str) {
    if skip(shell) {
        return;
    }
    let s = built();
    let t = &s.t;
    let name = shell.name;
    let venv = t.path().join(format!("myvenv-{name}"));
    let made = Command::new(system_python()).args(["-m", "venv", "--without-pip"]).arg(&venv).status().unwrap();
    assert!(made.success(), "python -m venv");
    let outside = t.path().join(format!("outside-venv-{name}"));
    std::fs::create_dir_all(&outside).unwrap();
    let lines = vec![
        fill(shell.eval, "cove", COVE),
        r#"printf '%s' "$PATH" > "$R/path0""#.to_string(),
        format!("cd {}", q(&s.a)),
        log("in ve=$VIRTUAL_ENV prompt=$VIRTUAL_ENV_PROMPT"),
        fill(activate, "venv", &venv.display().to_string()),
        log("mine ve=$VIRTUAL_ENV"),
        format!("cd {}", q(&outside)),
        log("out ve=$VIRTUAL_ENV"),
        "deactivate".to_string(),
        r#"printf '%s' "$PATH" > "$R/path1""#.to_string(),
        log("end ve=[$VIRTUAL_ENV] prompt=[$VIRTUAL_ENV_PROMPT]"),
    ];
    let session = interactive(t, shell, &outside, &lines, &[]);
    let context = format!("{name}\n--- terminal:\n{}\n--- log:\n{}", session.terminal, session.read("log"));
    let v = venv.display();
    let expected = [
        format!("in ve={} prompt=a", s.env_a),
        format!("mine ve={v}"),
        format!("out ve={v}"),
        "end ve=[] prompt=[]".to_string(),
    ];
    let got: Vec<String> = session.read("log").lines().map(str::to_string).collect();
    assert_eq!(got, expected, "{context}");
    assert_eq!(session.read("path1"), session.read("path0"), "cove's bin is off PATH outside the project: {context}");
}

#[test]
fn bash_leaves_a_users_venv_alone() {
    users_venv_is_left_alone(&BASH, "source '{venv}/bin/activate'");
}

#[test]
fn zsh_leaves_a_users_venv_alone() {
    users_venv_is_left_alone(&ZSH, "source '{venv}/bin/activate'");
}

#[test]
fn fish_leaves_a_users_venv_alone() {
    users_venv_is_left_alone(&FISH, "source '{venv}/bin/activate.fish'");
}

/// `cove off` in a project deactivates at once, restoring PATH as on leaving; it holds across
/// `cd`; `cove on` activates again; other arguments still reach the binary.
fn cove_off_and_on(shell: &Shell) {
    if skip(shell) {
        return;
    }
    let s = built();
    let t = &s.t;
    let outside = t.path().join(format!("outside-off-{}", shell.name));
    std::fs::create_dir_all(&outside).unwrap();
    let lines = vec![
        fill(shell.eval, "cove", COVE),
        r#"printf '%s' "$PATH" > "$R/path0""#.to_string(),
        format!("cd {}", q(&s.a)),
        log("on ve=$VIRTUAL_ENV"),
        "cove off".to_string(),
        log("off ve=[$VIRTUAL_ENV] project=[$COVE_PROJECT]"),
        r#"printf '%s' "$PATH" > "$R/path1""#.to_string(),
        format!("cd {}", q(&s.b)),
        format!("cd {}", q(&s.a)),
        log("still ve=[$VIRTUAL_ENV]"),
        "cove on".to_string(),
        log("again ve=$VIRTUAL_ENV"),
        r#"cove which alpha-cli >> "$R/log""#.to_string(),
    ];
    let session = interactive(t, shell, &outside, &lines, &[]);
    let context = format!("{}\n--- terminal:\n{}\n--- log:\n{}", shell.name, session.terminal, session.read("log"));
    let expected = [
        format!("on ve={}", s.env_a),
        "off ve=[] project=[]".to_string(),
        "still ve=[]".to_string(),
        format!("again ve={}", s.env_a),
        format!("{}/bin/alpha-cli", s.env_a),
    ];
    let got: Vec<String> = session.read("log").lines().map(str::to_string).collect();
    assert_eq!(got, expected, "{context}");
    assert_eq!(session.read("path1"), session.read("path0"), "off restores PATH as leaving does: {context}");
}

#[test]
fn bash_cove_off_and_on() {
    cove_off_and_on(&BASH);
}

#[test]
fn zsh_cove_off_and_on() {
    cove_off_and_on(&ZSH);
}

#[test]
fn fish_cove_off_and_on() {
    cove_off_and_on(&FISH);
}

// ---------------------------------------------------------------------------------------------
// The shells whose hook reads `cove hook-env --json`: nushell, xonsh, elvish.

/// How a JSON-hook shell says what the journey needs.
struct Dialect {
    shell: Shell,
    /// Lines run first (modules to load).
    setup: &'static [&'static str],
    /// A line that writes PATH, joined with `:`, to `$R/{file}`.
    save_path: &'static str,
    /// A line that appends `ve=<VIRTUAL_ENV> prompt=<VIRTUAL_ENV_PROMPT>` (empty when unset) to
    /// `$R/log`.
    log_venv: &'static str,
    /// A line that appends the output of `{cmd}` (a program and one argument) to `$R/log`.
    log_run: &'static str,
}

const NU: Dialect = Dialect {
    shell: Shell {
        name: "nu",
        args: &["--no-config-file"],
        eval: "source '{cove}'",
        status: "",
        registrations: r#"[($env.config.hooks.pre_prompt | each {|h| view source $h }) ($env.config.hooks.env_change.PWD | each {|h| view source $h })] | to json | save -f ($env.R | path join '{file}')"#,
        user_hook: r#"$env.config.hooks.pre_prompt = ($env.config.hooks.pre_prompt? | default [] | append {|| "user\n" | save -a ($env.R | path join user) })"#,
        wait_for: "",
        paced: true,
    },
    setup: &[],
    save_path: r#"$env.PATH | str join (char esep) | save -f ($env.R | path join '{file}')"#,
    log_venv: r#"$"ve=($env.VIRTUAL_ENV? | default '') prompt=($env.VIRTUAL_ENV_PROMPT? | default '')\n" | save -a ($env.R | path join log)"#,
    log_run: r#"^{cmd} | save -a ($env.R | path join log)"#,
};

const XONSH: Dialect = Dialect {
    shell: Shell {
        name: "xonsh",
        args: &["--no-rc", "-i", "--shell-type", "readline"],
        eval: "execx($('{cove}' hook xonsh))",
        status: "",
        registrations: r#"print(sorted(getattr(h, '__name__', '?') for ev in (events.on_pre_prompt, events.on_chdir) for h in ev), file=open($R + '/{file}', 'w'))"#,
        user_hook: r#"events.on_pre_prompt(lambda **kw: print('user', file=open($R + '/user', 'a')))"#,
        wait_for: "",
        paced: true,
    },
    setup: &[],
    save_path: r#"print(':'.join($PATH), end='', file=open($R + '/{file}', 'w'))"#,
    log_venv: r#"print('ve=' + ${...}.get('VIRTUAL_ENV', '') + ' prompt=' + ${...}.get('VIRTUAL_ENV_PROMPT', ''), file=open($R + '/log', 'a'))"#,
    log_run: r#"{cmd} >> $R/log"#,
};

const ELVISH: Dialect = Dialect {
    shell: Shell {
        name: "elvish",
        args: &["-norc"],
        eval: "eval ('{cove}' hook elvish | slurp)",
        status: "",
        registrations: r#"echo (count $edit:before-readline) (count $after-chdir) (each {|f| try { put $f[def] } catch { put builtin } } [$@edit:before-readline $@after-chdir] | str:join ' ') > $E:R/{file}"#,
        user_hook: r#"set edit:before-readline = [$@edit:before-readline { echo user >> $E:R/user }]"#,
        wait_for: "",
        paced: false,
    },
    setup: &["use str"],
    save_path: r#"print (str:join ':' $paths) > $E:R/{file}"#,
    log_venv: r#"echo 've='$E:VIRTUAL_ENV' prompt='$E:VIRTUAL_ENV_PROMPT >> $E:R/log"#,
    log_run: r#"{cmd} >> $E:R/log"#,
};

/// Entering a built project sets VIRTUAL_ENV (and the prompt name) and puts its `bin` on PATH:
/// `python` is the environment's and its console script runs; leaving gives PATH back byte for
/// byte; evaluating the hook twice registers it once; the user's own hook keeps running.
fn json_shell_journey(d: &Dialect) {
    let shell = &d.shell;
    if skip(shell) {
        return;
    }
    let s = built();
    let t = &s.t;
    let name = shell.name;
    let outside = t.path().join(format!("outside-{name}"));
    std::fs::create_dir_all(&outside).unwrap();
    let eval = if name == "nu" {
        // nushell sources files only: the script saved as its README says.
        let out = cove(t, t.path(), &["hook", "nu"]);
        assert_ok(&out);
        let file = t.path().join("cove-hook.nu");
        std::fs::write(&file, &out.stdout).unwrap();
        fill(shell.eval, "cove", &file.display().to_string())
    } else {
        fill(shell.eval, "cove", COVE)
    };
    let python = "python -c 'import sys; print(sys.prefix)'";
    let mut lines: Vec<String> = d.setup.iter().map(|l| l.to_string()).collect();
    lines.extend([
        fill(d.save_path, "file", "path-before"),
        shell.user_hook.to_string(),
        eval.clone(),
        fill(shell.registrations, "file", "reg0"),
        fill(d.save_path, "file", "path0"),
        eval,
        fill(shell.registrations, "file", "reg1"),
        fill(d.save_path, "file", "path1"),
        format!("cd {}", q(&s.a)),
        d.log_venv.to_string(),
        fill(d.log_run, "cmd", python),
        fill(d.log_run, "cmd", "alpha-cli --version"),
        format!("cd {}", q(&outside)),
        d.log_venv.to_string(),
        fill(d.save_path, "file", "path2"),
    ]);
    let session = interactive(t, shell, &outside, &lines, &[]);
    let context = format!("{name}\n--- terminal:\n{}\n--- log:\n{}", session.terminal, session.read("log"));

    let shims = t.shims().display().to_string();
    let before = session.read("path-before");
    assert!(!before.is_empty(), "{context}");
    assert_eq!(session.read("path0"), format!("{shims}:{before}"), "shims first on PATH: {context}");
    assert_eq!(session.read("path1"), session.read("path0"), "a second eval leaves PATH alone: {context}");
    let reg = session.read("reg0");
    assert!(!reg.is_empty(), "{context}");
    assert_eq!(session.read("reg1"), reg, "a second eval registers nothing new: {context}");
    assert_eq!(reg.matches("cove_hook").count(), 2, "one hook at the prompt, one on cd: {reg}\n{context}");

    let expected =
        [format!("ve={} prompt=a", s.env_a), s.env_a.clone(), "alpha-cli 1.0".to_string(), "ve= prompt=".to_string()];
    let got: Vec<String> = session.read("log").lines().map(str::to_string).collect();
    assert_eq!(got, expected, "{context}");
    assert_eq!(session.read("path2"), session.read("path0"), "leaving restores PATH byte for byte: {context}");
    assert!(session.read("user").lines().count() >= 5, "the user's own hook still runs: {context}");
    assert!(!session.terminal.contains("cove: error"), "{context}");
}

#[test]
fn nu_activates_and_restores() {
    json_shell_journey(&NU);
}

#[test]
fn xonsh_activates_and_restores() {
    json_shell_journey(&XONSH);
}

#[test]
fn elvish_activates_and_restores() {
    json_shell_journey(&ELVISH);
}
