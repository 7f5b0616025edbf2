//! Issue 16 finding 3 and issue 17: editing never loses what the user wrote, and never trusts
//! what it did not write. Every test runs the real binary (pip through the shims folder) and
//! compares the manifest's bytes before and after.

mod common;
use common::*;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap()
}

/// Every file of the trust store with its bytes.
fn trust_state(t: &TestEnv) -> Vec<(PathBuf, Vec<u8>)> {
    fn walk(dir: &Path, out: &mut Vec<(PathBuf, Vec<u8>)>) {
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else {
                out.push((p.clone(), std::fs::read(&p).unwrap()));
            }
        }
    }
    let mut out = Vec::new();
    walk(&t.data.join("trust"), &mut out);
    out.sort();
    out
}

/// A local project whose in-tree build backend writes `canary` when it is imported: building
/// an environment that requires it runs planted code.
fn planted_project(t: &TestEnv) -> (PathBuf, PathBuf) {
    let evil = t.path().join("evil");
    let canary = t.path().join("canary");
    std::fs::create_dir_all(&evil).unwrap();
    std::fs::write(
        evil.join("pyproject.toml"),
        "[build-system]\nrequires = []\nbuild-backend = \"backend\"\nbackend-path = [\".\"]\n\n[project]\nname = \"evil\"\nversion = \"1.0\"\n",
    )
    .unwrap();
    std::fs::write(
        evil.join("backend.py"),
        format!("open({:?}, 'w').write('ran')\nraise SystemExit(1)\n", canary.display().to_string()),
    )
    .unwrap();
    (evil, canary)
}

#[test]
fn edits_in_an_untrusted_project_change_nothing_and_build_nothing() {
    let t = TestEnv::new();
    let (evil, canary) = planted_project(&t);
    let p = t.project("proj", &["alpha==1.0", &format!("evil @ file://{}", evil.display())]);
    let before = read(&p.join("cove.toml"));
    for (tool, args) in [
        ("pip", &["install", "gamma"][..]),
        ("cove", &["add", "gamma"]),
        ("cove", &["remove", "alpha"]),
        ("pip", &["uninstall", "-y", "alpha"]),
    ] {
        let out = if tool == "pip" { t.shim("pip", &p, args) } else { t.cove(&p, args) };
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{tool} {args:?}: {err}");
        assert!(err.contains("is not trusted") && err.contains("`cove trust`"), "{tool} {args:?}: {err}");
        assert!(
            !err.contains("added") && !err.contains("removed"),
            "{tool} {args:?} says it made an edit it refused: {err}"
        );
        assert_eq!(read(&p.join("cove.toml")), before, "{tool} {args:?} changed the manifest");
        assert!(!canary.exists(), "{tool} {args:?} built the untrusted manifest: planted code ran");
        assert!(t.envs().is_empty(), "{tool} {args:?} built an environment");
        assert_eq!(t.status(&p)["trusted"], false, "{tool} {args:?} trusted what it did not write");
    }
}

/// Run `program args` in `cwd` on a new pseudo-terminal, answering `answer` to the trust
/// prompt; returns the exit code and everything printed.
fn on_a_terminal(t: &TestEnv, cwd: &Path, program: &Path, args: &[&str], answer: &str) -> (i32, String) {
    on_a_terminal_until(t, cwd, program, args, answer, "")
}

/// [`on_a_terminal`], for a program that does not exit by itself: once `stop` is printed after
/// the answer, it gets SIGINT (Ctrl-C).
fn on_a_terminal_until(
    t: &TestEnv,
    cwd: &Path,
    program: &Path,
    args: &[&str],
    answer: &str,
    stop: &str,
) -> (i32, String) {
    const HELPER: &str = r#"
import os, pty, select, signal, sys, time
answer, stop, cwd, *cmd = sys.argv[1:]
deadline = time.monotonic() + 90
pid, fd = pty.fork()
if pid == 0:
    os.chdir(cwd)
    os.execv(cmd[0], cmd)
out, sent = b"", False
while True:
    r, _, _ = select.select([fd], [], [], 5)
    if time.monotonic() > deadline:
        os.kill(pid, signal.SIGKILL)
        break
    if not r:
        continue
    try:
        data = os.read(fd, 4096)
    except OSError:
        break
    if not data:
        break
    out += data
    if not sent and b"[y/N]" in out:
        os.write(fd, (answer + "\n").encode())
        sent, asked_at = True, len(out)
    elif sent and stop and stop.encode() in out[asked_at:]:
        os.kill(pid, signal.SIGINT)
        stop = ""
_, status = os.waitpid(pid, 0)
sys.stdout.buffer.write(out)
sys.exit(os.waitstatus_to_exitcode(status) & 0xFF)
"#;
    t.shims_on();
    let out = t
        .cmd(system_python(), t.path())
        .env("NO_COLOR", "1")
        .arg("-c")
        .arg(HELPER)
        .arg(answer)
        .arg(stop)
        .arg(cwd)
        .arg(program)
        .args(args)
        .output()
        .unwrap();
    (out.status.code().unwrap_or(-1), stdout(&out).replace('\r', ""))
}

#[test]
fn an_untrusted_edit_on_a_terminal_shows_the_whole_manifest_and_asks() {
    let t = TestEnv::new();
    let (evil, canary) = planted_project(&t);
    let p = t.project("proj", &["alpha==1.0", &format!("evil @ file://{}", evil.display())]);
    let before = read(&p.join("cove.toml"));
    let (code, out) = on_a_terminal(&t, &p, &t.shims().join("pip"), &["install", "gamma"], "n");
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("it asks for: alpha==1.0, evil @ file://") && out.contains("gamma"), "{out}");
    assert_eq!(read(&p.join("cove.toml")), before);
    assert!(!canary.exists());
    assert_eq!(t.status(&p)["trusted"], false);

    // A clean project: `y` trusts the edited manifest and builds it.
    let q = t.project("clean", &["alpha==1.0"]);
    let (code, out) = on_a_terminal(&t, &q, Path::new(COVE), &["add", "gamma"], "y");
    assert_eq!(code, 0, "{out}");
    assert!(read(&q.join("cove.toml")).contains("\"gamma\""));
    assert_eq!(t.status(&q)["trusted"], true);
    assert_eq!(t.status(&q)["state"], "ready");
}

#[test]
fn pip_install_keeps_what_the_manifest_already_satisfies() {
    let t = TestEnv::new();
    let p = t.path().join("proj");
    std::fs::create_dir_all(&p).unwrap();
    let text = format!(
        "dependencies = [\n  \"alpha==1.0\",  # pinned for prod\n  \"beta\",\n]\n\n[index]\nfind-links = [{:?}]\nno-index = true\n",
        wheelhouse().display().to_string()
    );
    std::fs::write(p.join("cove.toml"), &text).unwrap();
    t.trust(&p);
    for args in [&["install", "alpha"][..], &["install", "alpha==1.0"], &["install", "alpha>=1"], &["install", "ALPHA"]]
    {
        let out = t.shim("pip", &p, args);
        assert_ok(&out);
        let err = stderr(&out);
        assert!(
            err.contains("alpha==1.0 is already in cove.toml; nothing changed") && !err.contains("added"),
            "{args:?}: {err}"
        );
        assert_eq!(read(&p.join("cove.toml")), text, "{args:?}");
    }
    let out = t.shim("pip", &p, &["install", "--upgrade", "alpha"]);
    assert_ok(&out);
    assert!(stderr(&out).contains("alpha==1.0 is pinned in cove.toml"), "{}", stderr(&out));
    assert_eq!(read(&p.join("cove.toml")), text);

    // `--upgrade` of a range keeps it and rebuilds within it.
    let out = t.shim("pip", &p, &["install", "-U", "beta"]);
    assert_ok(&out);
    assert!(stderr(&out).contains("beta stays in cove.toml; the environment is rebuilt within it"), "{}", stderr(&out));
    assert_eq!(read(&p.join("cove.toml")), text);

    // A different spec replaces the old one, on its line, with its comment.
    let out = t.shim("pip", &p, &["install", "alpha==2.0"]);
    assert_ok(&out);
    assert!(stderr(&out).contains("alpha==1.0 → alpha==2.0 in cove.toml"), "{}", stderr(&out));
    assert_eq!(read(&p.join("cove.toml")), text.replace("\"alpha==1.0\"", "\"alpha==2.0\""));
    let out = t.shim("python", &p, &["-c", "import alpha; print(alpha.__version__)"]);
    assert_eq!(stdout(&out), "2.0\n");
}

#[test]
fn pip_and_uv_never_become_requirements() {
    let t = TestEnv::new();
    let p = t.project("proj", &["alpha==1.0"]);
    t.trust(&p);
    let before = read(&p.join("cove.toml"));
    for args in [&["install", "--upgrade", "pip"][..], &["install", "uv"], &["uninstall", "-y", "pip"]] {
        let out = t.shim("pip", &p, args);
        assert_ok(&out);
        assert!(stderr(&out).contains("is the installer cove manages"), "{args:?}: {}", stderr(&out));
        assert_eq!(read(&p.join("cove.toml")), before, "{args:?}");
    }
    // Beside a real requirement, only that one is added.
    let out = t.shim("pip", &p, &["install", "pip", "gamma"]);
    assert_ok(&out);
    let after = read(&p.join("cove.toml"));
    assert!(after.contains("\"gamma\"") && !after.contains("\"pip\""), "{after}");
}

#[test]
fn comments_stay_on_their_lines_in_cove_toml_and_pyproject() {
    let t = TestEnv::new();
    let wheels = wheelhouse().display().to_string();
    let cove = t.path().join("c");
    std::fs::create_dir_all(&cove).unwrap();
    let cove_text = format!(
        "dependencies = [\n  \"alpha==1.0\",  # pinned on purpose\n  \"beta\",  # must match prod\n]\n\n[index]\nfind-links = [{wheels:?}]\nno-index = true\n"
    );
    std::fs::write(cove.join("cove.toml"), &cove_text).unwrap();
    let py = t.path().join("p");
    std::fs::create_dir_all(&py).unwrap();
    let py_text = format!(
        "[project]\nname = \"p\"\nversion = \"1\"\ndependencies = [\n    \"alpha==1.0\"  # pinned on purpose, no comma\n]\n\n[tool.cove.index]\nfind-links = [{wheels:?}]\nno-index = true\n"
    );
    std::fs::write(py.join("pyproject.toml"), &py_text).unwrap();
    for (dir, file, text) in [(&cove, "cove.toml", &cove_text), (&py, "pyproject.toml", &py_text)] {
        t.trust(dir);
        let out = t.cove(dir, &["add", "gamma"]);
        assert_ok(&out);
        let added = read(&dir.join(file));
        let alpha_line = added.lines().find(|l| l.contains("alpha")).unwrap();
        assert!(alpha_line.contains("# pinned on purpose"), "{file}: {added}");
        let gamma_line = added.lines().find(|l| l.contains("gamma")).unwrap();
        assert!(!gamma_line.contains('#'), "{file}: the comment moved to the new line:\n{added}");
        let out = t.shim("pip", dir, &["uninstall", "-y", "gamma"]);
        assert_ok(&out);
        assert_eq!(&read(&dir.join(file)), text, "{file}: add then uninstall");
        let out = t.shim("pip", dir, &["install", "gamma"]);
        assert_ok(&out);
        let out = t.cove(dir, &["remove", "gamma"]);
        assert_ok(&out);
        assert_eq!(&read(&dir.join(file)), text, "{file}: pip install then remove");
    }
}

/// An HTTP server on 127.0.0.1 that accepts every request and answers none: an install from it
/// hangs until stopped. Writes its port to `port`, and adds each request's path to `hit`.
struct HoldingIndex {
    child: std::process::Child,
    port: u16,
    hit: PathBuf,
}

impl HoldingIndex {
    fn start(dir: &Path) -> HoldingIndex {
        let port_file = dir.join("port");
        let hit = dir.join("hit");
        let script = r#"
import http.server, sys, time
port_file, hit = sys.argv[1], sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        with open(hit, "a") as f:
            f.write(self.path + "\n")
        time.sleep(120)
    def log_message(self, *a):
        pass
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
open(port_file + ".tmp", "w").write(str(s.server_address[1]))
import os; os.rename(port_file + ".tmp", port_file)
s.serve_forever()
"#;
        let child = Command::new(system_python())
            .arg("-c")
            .arg(script)
            .arg(&port_file)
            .arg(&hit)
            .stdin(Stdio::null())
            .spawn()
            .unwrap();
        let start = Instant::now();
        while !port_file.exists() {
            assert!(start.elapsed() < Duration::from_secs(20), "the index did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        let port = read(&port_file).trim().parse().unwrap();
        HoldingIndex { child, port, hit }
    }
}

impl Drop for HoldingIndex {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn an_interrupted_add_is_rolled_back_with_its_trust() {
    let t = TestEnv::new();
    for signal in [libc::SIGINT, libc::SIGTERM] {
        let server_dir = t.path().join(format!("server-{signal}"));
        std::fs::create_dir_all(&server_dir).unwrap();
        let index = HoldingIndex::start(&server_dir);
        let p = t.path().join(format!("proj-{signal}"));
        std::fs::create_dir_all(&p).unwrap();
        let text = format!(
            "dependencies = [\n  \"alpha==1.0\",  # pinned\n]\n\n[index]\nurl = \"http://127.0.0.1:{}/simple\"\n",
            index.port
        );
        std::fs::write(p.join("cove.toml"), &text).unwrap();
        t.trust(&p);
        let trust_before = trust_state(&t);
        let mut child = t.cmd(COVE, &p).args(["add", "gamma"]).stderr(Stdio::piped()).spawn().unwrap();
        let start = Instant::now();
        while !index.hit.exists() {
            assert!(start.elapsed() < Duration::from_secs(60), "the install never reached the index");
            assert!(child.try_wait().unwrap().is_none(), "cove add ended before the install was held");
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(read(&p.join("cove.toml")).contains("gamma"), "the edit is written while the sync runs");
        // SAFETY: signalling the child this test started.
        unsafe { libc::kill(child.id() as i32, signal) };
        let start = Instant::now();
        let status = loop {
            if let Some(s) = child.try_wait().unwrap() {
                break s;
            }
            assert!(start.elapsed() < Duration::from_secs(30), "cove add did not stop on signal {signal}");
            std::thread::sleep(Duration::from_millis(20));
        };
        let mut err = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
        assert_eq!(status.code(), Some(130), "signal {signal}: {err}");
        assert!(err.contains("interrupted: ") && err.contains("back as they were"), "{err}");
        assert_eq!(read(&p.join("cove.toml")), text, "signal {signal}: the manifest was not rolled back");
        assert_eq!(trust_state(&t), trust_before, "signal {signal}: the trust records were not rolled back");
        assert_eq!(t.status(&p)["trusted"], true);
    }
}

/// The environment and the project's layer are built at once with uv (issue 22), so an
/// interrupted `cove add` has two installers to stop: both are, and the edit is rolled back.
#[test]
fn an_interrupted_add_stops_the_layers_installer_too() {
    if no_uv() {
        return;
    }
    let t = TestEnv::with_backend("uv");
    let server = t.path().join("server");
    std::fs::create_dir_all(&server).unwrap();
    let index = HoldingIndex::start(&server);
    let p = package_project(t.path(), "proj", "proj", "0.1.0", &["alpha==1.0"]);
    let pyproject = read(&p.join("pyproject.toml"))
        .replace("requires = []", "requires = [\"holdme\"]")
        .replace("no-index = true", &format!("url = \"http://127.0.0.1:{}/simple\"", index.port));
    std::fs::write(p.join("pyproject.toml"), &pyproject).unwrap();
    t.trust(&p);
    let mut child = t.cmd(COVE, &p).args(["add", "gamma"]).stderr(Stdio::piped()).spawn().unwrap();
    let start = Instant::now();
    // Both installers are held at the index: the layer's asks for its build requirement.
    while !(std::fs::read_to_string(&index.hit).unwrap_or_default().contains("holdme")
        && std::fs::read_to_string(&index.hit).unwrap_or_default().lines().any(|l| !l.contains("holdme")))
    {
        assert!(start.elapsed() < Duration::from_secs(60), "both installs never reached the index");
        assert!(child.try_wait().unwrap().is_none(), "cove add ended before the installs were held");
        std::thread::sleep(Duration::from_millis(20));
    }
    // SAFETY: signalling the child this test started.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            panic!("cove add did not stop: an installer was left running");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert_eq!(status.code(), Some(130), "{err}");
    assert_eq!(read(&p.join("pyproject.toml")), pyproject, "the manifest was not rolled back");
}

#[test]
fn init_imports_all_of_requirements_txt_and_shows_it() {
    let t = TestEnv::new();
    let p = t.path().join("proj");
    std::fs::create_dir_all(p.join("wheels")).unwrap();
    std::fs::write(p.join("base.txt"), "alpha==1.0  # from base\n").unwrap();
    std::fs::write(
        p.join("requirements.txt"),
        "-r base.txt\n--index-url https://example.org/simple\n--find-links ./wheels\n--no-index\nbeta\n",
    )
    .unwrap();
    let out = t.cove(&p, &["init"]);
    assert_ok(&out);
    assert_eq!(
        read(&p.join("cove.toml")),
        "dependencies = [\n  \"alpha==1.0\",\n  \"beta\",\n]\n\n[index]\nurl = \"https://example.org/simple\"\nfind-links = [\"./wheels\"]\nno-index = true\n"
    );
    let err = stderr(&out);
    let shown = err.find("cove:   alpha==1.0").unwrap();
    assert!(err[shown..].contains("cove:   beta"), "{err}");
    assert!(err.find("wrote and trusted").unwrap() > shown, "shown before trusted: {err}");
    assert_eq!(t.status(&p)["trusted"], true);

    // Lines a cove.toml cannot say are refused, each named, and nothing is written.
    let q = t.path().join("refuse");
    std::fs::create_dir_all(&q).unwrap();
    std::fs::write(q.join("c.txt"), "alpha<3\n").unwrap();
    std::fs::write(q.join("pyproject.toml"), "[build-system]\nrequires = []\n").unwrap();
    std::fs::write(q.join("requirements.txt"), "beta\n-c c.txt\n-e .\n").unwrap();
    let out = t.cove(&q, &["init"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("requirements.txt:2: `-c c.txt`") && err.contains("requirements.txt:3: `-e .`"), "{err}");
    assert!(!q.join("cove.toml").exists());
}

#[test]
fn init_beside_a_pyproject_manifest_refuses_unless_forced() {
    let t = TestEnv::new();
    let p = t.path().join("proj");
    std::fs::create_dir_all(&p).unwrap();
    std::fs::write(p.join("pyproject.toml"), "[project]\nname = \"p\"\nversion = \"1\"\ndependencies = []\n").unwrap();
    std::fs::write(p.join("uv.lock"), "version = 1\n").unwrap();
    let out = t.cove(&p, &["init", "alpha"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("is already this project's manifest") && err.contains("cove add"), "{err}");
    assert!(!p.join("cove.toml").exists());
    let out = t.cove(&p, &["init", "--force", "alpha"]);
    assert_ok(&out);
    assert!(stderr(&out).contains("cove.toml now takes precedence over"), "{}", stderr(&out));
    assert!(p.join("cove.toml").exists());
}

#[test]
fn adding_to_a_group_that_is_not_selected_says_so() {
    let t = TestEnv::new();
    let p = t.path().join("proj");
    std::fs::create_dir_all(&p).unwrap();
    let text = format!(
        "[project]\nname = \"p\"\nversion = \"1\"\ndependencies = [\"alpha==1.0\"]\n\n[dependency-groups]\ndev = []\n\n[tool.cove.index]\nfind-links = [{:?}]\nno-index = true\n",
        wheelhouse().display().to_string()
    );
    std::fs::write(p.join("pyproject.toml"), &text).unwrap();
    t.trust(&p);
    let out = t.cove(&p, &["add", "--group", "test", "gamma"]);
    assert_ok(&out);
    let err = stderr(&out);
    assert!(err.contains("the group `test` is not selected") && err.contains("groups = [\"dev\", \"test\"]"), "{err}");
    let out = t.cove(&p, &["add", "--group", "dev", "delta"]);
    assert_ok(&out);
    assert!(!stderr(&out).contains("not selected"), "{}", stderr(&out));
}

#[test]
fn remove_names_the_included_file_a_requirement_is_in() {
    let t = TestEnv::new();
    let p = t.path().join("proj");
    std::fs::create_dir_all(&p).unwrap();
    std::fs::write(p.join("base.txt"), "gamma\n").unwrap();
    let text = format!("--no-index\n--find-links {}\n-r base.txt\nalpha==1.0\n", wheelhouse().display());
    std::fs::write(p.join("requirements.txt"), &text).unwrap();
    t.trust(&p);
    let out = t.cove(&p, &["remove", "gamma"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("gamma is not in requirements.txt itself but in") && err.contains("base.txt"), "{err}");
    assert_eq!(read(&p.join("requirements.txt")), text);
    // Adding it is not a second line either.
    let out = t.cove(&p, &["add", "gamma"]);
    assert_ok(&out);
    assert!(stderr(&out).contains("gamma is already in") && stderr(&out).contains("base.txt"), "{}", stderr(&out));
    let out = t.cove(&p, &["add", "gamma==1.0"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("change it there"), "{}", stderr(&out));
    assert_eq!(read(&p.join("requirements.txt")), text);
}

#[test]
fn a_hand_edit_on_a_terminal_shows_the_change_and_one_y_builds() {
    let t = TestEnv::new();
    let p = t.project("proj", &["alpha>=1"]);
    t.trust(&p);
    t.write_cove_toml(&p, &["alpha==1.0"]);
    let (code, out) =
        on_a_terminal(&t, &p, &t.shims().join("python"), &["-c", "import alpha; print(alpha.__version__)"], "y");
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("changed since you trusted it:\ncove:   ~alpha>=1 → alpha==1.0\n"), "{out}");
    assert!(out.trim_end().ends_with("1.0"), "{out}");
    assert_eq!(t.status(&p)["trusted"], true);
}

/// `cove watch` on a terminal asks as `python` does: the change is shown and one `y` builds.
#[test]
fn watch_on_a_terminal_shows_the_change_and_one_y_builds() {
    let t = TestEnv::new();
    let p = t.project("proj", &["alpha>=1"]);
    t.trust(&p);
    t.write_cove_toml(&p, &["alpha==1.0"]);
    let cove = PathBuf::from(env!("CARGO_BIN_EXE_cove"));
    let (code, out) = on_a_terminal_until(&t, &p, &cove, &["watch"], "y", "built in");
    assert_eq!(code, 0, "Ctrl-C ends watch with 0: {out}");
    assert!(out.contains("changed since you trusted it:\ncove:   ~alpha>=1 → alpha==1.0\n"), "{out}");
    assert!(out.contains("built in"), "{out}");
    assert_eq!(t.status(&p)["trusted"], true);
    assert_eq!(t.status(&p)["state"], "ready");
}

#[test]
fn bad_requirement_text_is_refused_at_its_place() {
    let t = TestEnv::new();
    let p = t.path().join("proj");
    std::fs::create_dir_all(&p).unwrap();
    std::fs::write(p.join("requirements.txt"), "alpha\nrequests @@ 2\n").unwrap();
    let out = t.cove(&p, &["status"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("requirements.txt:2:11: invalid requirement \"requests @@ 2\""), "{}", stderr(&out));
    let q = t.project("q", &["alpha==1.0"]);
    t.trust(&q);
    let before = read(&q.join("cove.toml"));
    let out = t.cove(&q, &["add", "requests @@ 2"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(read(&q.join("cove.toml")), before);
}
