//! `cove doctor`: check the config, shims, PATH order, hook, interpreters, backend, cache and
//! trust store, and say what to fix. Exit 0 when all is well, 1 otherwise. Notes (things that
//! work but could be better) do not fail it.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::cache::Cache;
use crate::error::{Error, Result};
use crate::plan::interpreter::Finder;
use crate::settings::{BackendChoice, Flags, Settings};
use crate::ui::units::format_size;

/// Variables the shell hook sets; any of them means it ran in this shell.
const HOOK_VARS: &[&str] = &["__COVE_STATE", "__COVE_EXE", "COVE_PROJECT"];

#[derive(Default)]
struct Report {
    text: String,
    problems: usize,
}

impl Report {
    fn ok(&mut self, what: &str, detail: impl AsRef<str>) {
        self.text.push_str(&format!("ok       {what:<8} {}\n", detail.as_ref()));
    }

    fn note(&mut self, what: &str, detail: impl AsRef<str>, fix: impl AsRef<str>) {
        self.text.push_str(&format!("note     {what:<8} {}\n", detail.as_ref()));
        self.text.push_str(&format!("                  fix: {}\n", fix.as_ref()));
    }

    fn problem(&mut self, what: &str, detail: impl AsRef<str>, fix: Option<String>) {
        self.problems += 1;
        self.text.push_str(&format!("problem  {what:<8} {}\n", detail.as_ref()));
        if let Some(fix) = fix {
            self.text.push_str(&format!("                  fix: {fix}\n"));
        }
    }
}

pub fn run(flags: &Flags) -> Result<()> {
    let mut r = Report::default();
    let settings = match Settings::load(flags) {
        Ok(s) => {
            let state = if s.config_file.exists() { "" } else { " (none; defaults apply)" };
            r.ok("config", format!("{}{state}", s.config_file.display()));
            s
        }
        Err(e) => {
            r.problem("config", e.to_string(), e.hint());
            Settings::load_without_config(flags)?
        }
    };
    let shims_on_path = shims_and_path(&settings, &mut r);
    hook(shims_on_path, &mut r);
    contexts(&settings, &mut r);
    interpreters(&settings, &mut r);
    backend(&settings, &mut r);
    cache(&settings, &mut r);
    trust_store(&settings, &mut r);
    remote(&settings, &mut r);
    let problems = r.problems;
    if problems == 0 {
        r.text.push_str("all good\n");
    }
    crate::ui::out(&r.text);
    if problems > 0 { Err(Error::DoctorFound { problems }) } else { Ok(()) }
}

/// The team cache, when one is set: reachable, logged in, and push allowed when `push = true`.
fn remote(settings: &Settings, r: &mut Report) {
    let Some(remote) = &settings.remote else { return };
    let store = crate::remote::open(remote);
    match store.check(remote.push) {
        Ok(what) => r.ok("remote", format!("{}: {what}", remote.url)),
        Err(crate::remote::Fault(why)) => r.problem(
            "remote",
            format!("{}: {why}", remote.url),
            Some("check the url, your login (~/.docker/config.json or COVE_REMOTE_TOKEN) and the network; cove builds locally meanwhile".into()),
        ),
    }
}

/// The line that enables the hook in the user's shell, and where it goes.
fn hook_line() -> String {
    let shell = std::env::var("SHELL").unwrap_or_default();
    match Path::new(&shell).file_name().and_then(|n| n.to_str()) {
        Some("zsh") => "add `eval \"$(cove hook zsh)\"` to ~/.zshrc".into(),
        Some("fish") => "add `cove hook fish | source` to ~/.config/fish/config.fish".into(),
        _ => "add `eval \"$(cove hook bash)\"` to ~/.bashrc".into(),
    }
}

/// The shims folder and its links, and where it sits on PATH. Returns whether it is on PATH.
fn shims_and_path(settings: &Settings, r: &mut Report) -> bool {
    let dir = settings.shims_dir();
    if !dir.is_dir() {
        r.problem("shims", format!("{} does not exist", dir.display()), Some("run `cove shims`".into()));
    } else if let Err(e) = crate::cache::check_home_dir(&settings.home_dir, "shims") {
        r.problem("shims", e.to_string(), e.hint());
    } else {
        let me = std::env::current_exe().ok().and_then(|p| std::fs::canonicalize(p).ok());
        let wrong: Vec<String> = crate::shim::links::CORE
            .iter()
            .filter(|name| std::fs::canonicalize(dir.join(name)).ok() != me)
            .map(|name| name.to_string())
            .collect();
        if wrong.is_empty() {
            r.ok("shims", format!("{} ({})", dir.display(), crate::shim::links::CORE.join(", ")));
        } else {
            r.problem(
                "shims",
                format!("{} in {} missing or not linked to this cove", wrong.join(", "), dir.display()),
                Some("run `cove shims`".into()),
            );
        }
    }

    let path = std::env::var_os("PATH").unwrap_or_default();
    let entries: Vec<PathBuf> = std::env::split_paths(&path).collect();
    let real_dir = std::fs::canonicalize(&dir).unwrap_or_else(|_| dir.clone());
    let is_shims = |p: &PathBuf| *p == dir || std::fs::canonicalize(p).is_ok_and(|c| c == real_dir);
    let Some(at) = entries.iter().position(is_shims) else {
        r.problem(
            "PATH",
            format!("the shims folder {} is not on PATH", dir.display()),
            Some(format!("{}, or `export PATH=\"{}:$PATH\"`", hook_line(), dir.display())),
        );
        return false;
    };
    let names = ["python", "python3", "pip", "pip3"];
    let shadowing: Vec<String> = entries[..at]
        .iter()
        .filter_map(|d| {
            let found: Vec<&str> =
                names.iter().copied().filter(|n| crate::plan::interpreter::is_executable(&d.join(n))).collect();
            (!found.is_empty()).then(|| format!("{} ({})", d.display(), found.join(", ")))
        })
        .collect();
    if at == 0 {
        r.ok("PATH", "the shims folder comes first");
    } else if shadowing.is_empty() {
        r.ok("PATH", format!("the shims folder is entry {} and nothing before it has python or pip", at + 1));
    } else {
        r.problem(
            "PATH",
            format!("before the shims folder on PATH: {}; `python` runs that instead of cove", shadowing.join("; ")),
            Some(format!("put the shims first: {}, or `export PATH=\"{}:$PATH\"`", hook_line(), dir.display())),
        );
    }
    true
}

fn hook(shims_on_path: bool, r: &mut Report) {
    if HOOK_VARS.iter().any(|v| std::env::var_os(v).is_some_and(|x| !x.is_empty())) {
        r.ok("hook", "active in this shell");
    } else if shims_on_path {
        r.note(
            "hook",
            "not active in this shell (python and pip work through the shims; the project's tools need the hook)",
            hook_line(),
        );
    } else {
        r.problem("hook", "not active in this shell", Some(hook_line()));
    }
}

/// Whether `python` reaches cove's shims in the contexts that read no interactive rc file:
/// what coding agents, IDE task runners, `make` and cron start. Each is run for real, from `/`
/// (never from the project, whose files nothing here may read), and only asked where `python`
/// is; nothing runs Python.
fn contexts(settings: &Settings, r: &mut Report) {
    let shim = settings.shims_dir().join("python");
    let home = std::env::var_os("HOME").unwrap_or_default();
    let ask = "command -v python";
    let mut login = Command::new("env");
    login.arg("-i").arg(format!("HOME={}", home.to_string_lossy())).args(["sh", "-lc", "printf %s \"$PATH\""]);
    let login_path = run_with_input(&mut login, None).filter(|p| !p.is_empty());
    let mut checks: Vec<(&str, Command)> = Vec::new();
    for (label, program, args) in [
        ("sh -c", "sh", vec!["-c", ask]),
        ("bash -c", "bash", vec!["-c", ask]),
        ("bash -lc", "bash", vec!["-lc", ask]),
        ("zsh -c", "zsh", vec!["-c", ask]),
    ] {
        if ["/bin", "/usr/bin"].iter().any(|d| crate::plan::interpreter::is_executable(&Path::new(d).join(program))) {
            let mut c = Command::new(program);
            c.args(args);
            checks.push((label, c));
        }
    }
    let mut make = Command::new("make");
    make.args(["-s", "-f", "-"]);
    checks.push(("make", make));
    if let Some(login) = &login_path {
        let mut cron = Command::new("env");
        cron.args(["-i"])
            .arg(format!("HOME={}", home.to_string_lossy()))
            .arg(format!("PATH={login}"))
            .args(["sh", "-c", ask]);
        checks.push(("cron-like env -i", cron));
    }
    let mut missing = Vec::new();
    for (label, mut c) in checks {
        let input = (label == "make").then_some("all:\n\t@command -v python\n");
        match run_with_input(&mut c, input) {
            Some(found) if Path::new(found.trim()) == shim => {}
            Some(found) if found.trim().is_empty() => missing.push(format!("{label} (no python)")),
            Some(found) => missing.push(format!("{label} ({})", found.trim())),
            None => {}
        }
    }
    if missing.is_empty() {
        r.ok("contexts", "sh -c, bash -c, bash -lc, zsh -c, make and cron-like runs reach cove's shims");
    } else {
        r.note(
            "contexts",
            format!("python there is not cove's: {}", missing.join(", ")),
            "run `cove setup` (login shells, zsh, fish); a program started outside them needs the shims on its PATH",
        );
    }
}

/// Run `c` from `/` with at most 5 seconds to answer; its stdout, or `None` when it could not run.
fn run_with_input(c: &mut Command, input: Option<&str>) -> Option<String> {
    use std::io::{Read, Write};
    c.current_dir("/").stdin(if input.is_some() { Stdio::piped() } else { Stdio::null() });
    c.stdout(Stdio::piped()).stderr(Stdio::null());
    let mut child = c.spawn().ok()?;
    if let (Some(text), Some(mut stdin)) = (input, child.stdin.take()) {
        let _ = stdin.write_all(text.as_bytes());
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(10))
            }
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
        }
    }
    let mut out = String::new();
    child.stdout.take()?.read_to_string(&mut out).ok()?;
    Some(out)
}

fn interpreters(settings: &Settings, r: &mut Report) {
    let finder = Finder::new(&settings.cache_dir, settings.shims_dir());
    // A pyenv version named outside pyenv's folder (`../…`) is refused, not run: say so.
    if let Err(e) = finder.first_real("python3") {
        r.problem("python", e.to_string(), e.hint());
    }
    let all = finder.all();
    match all.first() {
        None => r.problem(
            "python",
            "no Python interpreters found (PATH, pyenv, uv's pythons, /usr/bin, /usr/local/bin)",
            Some("install one, e.g. `uv python install 3.12` or `pyenv install 3.12`".into()),
        ),
        Some(newest) => r.ok(
            "python",
            format!(
                "{} interpreter{} found; newest {} ({})",
                all.len(),
                if all.len() == 1 { "" } else { "s" },
                newest.facts.python_full_version,
                newest.path.display()
            ),
        ),
    }
}

fn backend(settings: &Settings, r: &mut Report) {
    if settings.backend == BackendChoice::Pip {
        return r.ok("backend", "pip (the base interpreter's venv and pip; backend pip is set)");
    }
    let found = match crate::build::backend::find_uv(&settings.home_dir) {
        Ok(found) => found,
        Err(e) => return r.problem("backend", e.to_string(), e.hint()),
    };
    let Some(uv) = found else {
        if settings.backend == BackendChoice::Uv {
            r.problem(
                "backend",
                "backend \"uv\" is set but uv is not found (COVE_UV, PATH, cove's data folder)",
                Some(crate::error::INSTALL_UV.into()),
            );
        } else {
            r.note(
                "backend",
                "pip (backend auto and uv not found; builds use the base interpreter's venv and pip, about 10x slower)",
                crate::error::INSTALL_UV,
            );
        }
        return;
    };
    let out = Command::new(&uv).arg("--version").stdin(Stdio::null()).stderr(Stdio::null()).output();
    let failed = match out {
        Ok(o) if o.status.success() => {
            let why = match settings.backend {
                BackendChoice::Uv => "backend uv",
                _ if std::env::var_os("COVE_UV").is_some_and(|v| !v.is_empty()) => "backend auto, uv from COVE_UV",
                _ if uv == crate::build::backend::bundled_uv(&settings.home_dir) => {
                    "backend auto, uv from cove's data folder"
                }
                _ => "backend auto, uv found on PATH",
            };
            return r.ok("backend", format!("{} ({}; {why})", String::from_utf8_lossy(&o.stdout).trim(), uv.display()));
        }
        Ok(o) => format!("{} --version failed ({})", uv.display(), o.status),
        Err(e) => format!("cannot run {}: {e}", uv.display()),
    };
    r.problem("backend", failed, Some("reinstall uv, or set COVE_UV to a working one, or use `--backend pip`".into()));
}

fn cache(settings: &Settings, r: &mut Report) {
    let cache = Cache::new(&settings.cache_dir);
    let root = &cache.root;
    if let Err(e) = cache.check_private().and_then(|()| cache.prepare()) {
        return r.problem("cache", e.to_string(), e.hint());
    }
    let probe = root.join(format!(".cove-doctor-{}", std::process::id()));
    if let Err(e) = std::fs::write(&probe, b"") {
        return r.problem(
            "cache",
            format!("cannot write in {}: {e}", root.display()),
            Some(format!("check its owner and permissions, or set COVE_CACHE_DIR (`ls -ld {}`)", root.display())),
        );
    }
    let _ = std::fs::remove_file(&probe);
    if std::fs::metadata(root).is_ok_and(|m| m.permissions().mode() & 0o077 != 0) {
        return r.problem(
            "cache",
            format!("{} is open to other users", root.display()),
            Some(format!("`chmod 700 {}`", root.display())),
        );
    }
    let entries = crate::cache::inventory::scan(&cache).unwrap_or_default();
    let mut counted = crate::fsx::Counted::default();
    let size: u64 = entries.iter().map(|e| e.size(&mut counted)).sum();
    let broken = entries.iter().filter(|e| e.broken.is_some()).count();
    let summary = format!(
        "{}: writable, {} in {} environment{}",
        root.display(),
        format_size(size),
        entries.len(),
        if entries.len() == 1 { "" } else { "s" }
    );
    if broken > 0 {
        r.note("cache", format!("{summary}, {broken} broken"), "`cove gc` removes them");
    } else {
        r.ok("cache", summary);
    }
}

fn trust_store(settings: &Settings, r: &mut Report) {
    let dir = settings.home_dir.join("trust");
    let read = match std::fs::read_dir(&dir) {
        Ok(read) => read,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return r.ok("trust", format!("{} (nothing trusted yet)", dir.display()));
        }
        Err(e) => {
            return r.problem(
                "trust",
                format!("cannot read {}: {e}", dir.display()),
                Some(format!("check its owner and permissions (`ls -ld {}`)", dir.display())),
            );
        }
    };
    if let Err(e) = crate::plan::trust::check_store(settings) {
        return r.problem("trust", format!("{e}, so others could trust manifests for you"), e.hint());
    }
    let records = read.flatten().filter(|e| e.file_type().is_ok_and(|t| t.is_file())).count();
    r.ok("trust", format!("{} ({records} trusted manifest{})", dir.display(), if records == 1 { "" } else { "s" }));
}
