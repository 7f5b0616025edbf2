//! Reliability and security suite (issue 8): the guarantees of SPEC §3 and §5 under kills, races,
//! faults and hostile input, through the real binary.
//!
//! - kills: builds SIGKILLed at random moments, then `python` through the shim;
//! - races: 16 processes on a cold key, a `--refresh` under running processes, gc during a build;
//! - faults: installer missing or failing, index unreachable, disk full, read-only cache, a cache
//!   others could write, the manifest changed during a build, odd project paths, bad settings;
//! - hostile input: the corpus in `tests/fixtures/nasty/` plus generated giants and random bytes;
//! - PATH: the shims twice, through a symlinked folder, behind pyenv's shims;
//! - stdout: `python x.py > out` holds only the program's output, failures included.
//!
//! Builds use uv (fast): a test says SKIPPED when it is missing. When every test here has run,
//! the last one prints the figures, adding the property tests' count that `src/fuzz_tests.rs`
//! left beside the test binaries (`cargo test` runs those first):
//! `reliability: 50 kills survived, 16 races won, 23 faults handled, 21400 inputs tried, 0 panics`.
//! `COVE_KILL_ITERATIONS` (default 50) and `COVE_KILL_SEED` replay or extend the kill loop.

mod common;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::*;

const PRINT_ALPHA: &str = "import alpha; print(alpha.__version__)";

// ---- figures ----

static KILLS: AtomicUsize = AtomicUsize::new(0);
static RACES: AtomicUsize = AtomicUsize::new(0);
static FAULTS: AtomicUsize = AtomicUsize::new(0);
static INPUTS: AtomicUsize = AtomicUsize::new(0);
static PANICS: AtomicUsize = AtomicUsize::new(0);
static DONE: AtomicUsize = AtomicUsize::new(0);

/// How many `#[test]`s this file has: the last to finish prints the summary.
const TESTS: usize = 16;

/// Held by each test; when the last one ends (passed or not), the summary is printed.
struct Done;

impl Drop for Done {
    fn drop(&mut self) {
        if DONE.fetch_add(1, Ordering::SeqCst) + 1 == TESTS {
            summary();
        }
    }
}

/// The property tests' cases, from the figures `src/fuzz_tests.rs` wrote, if they are newer
/// than the binary under test.
fn fuzz_inputs() -> Option<usize> {
    let deps = std::env::current_exe().ok()?.parent()?.to_path_buf();
    let dir = deps.parent()?.join("cove-fuzz-figures");
    let built = std::fs::metadata(COVE).and_then(|m| m.modified()).ok()?;
    let mut total = 0;
    for e in std::fs::read_dir(dir).ok()?.flatten() {
        let fresh = e.metadata().and_then(|m| m.modified()).is_ok_and(|t| t >= built);
        if fresh {
            total += std::fs::read_to_string(e.path()).ok()?.trim().parse::<usize>().ok()?;
        }
    }
    (total > 0).then_some(total)
}

fn summary() {
    let binary = INPUTS.load(Ordering::SeqCst);
    let fuzz = fuzz_inputs();
    let line = format!(
        "reliability: {} kills survived, {} races won, {} faults handled, {} inputs tried, {} panics",
        KILLS.load(Ordering::SeqCst),
        RACES.load(Ordering::SeqCst),
        FAULTS.load(Ordering::SeqCst),
        binary + fuzz.unwrap_or(0),
        PANICS.load(Ordering::SeqCst)
    );
    let detail = match fuzz {
        Some(n) => format!("(inputs: {n} property-test cases in-process, {binary} through the binary)"),
        None => {
            format!("(inputs: {binary} through the binary; property-test figures not found: run `cargo test` whole)")
        }
    };
    eprintln!("{line}\n{detail}");
    // Also past the test harness's capture, so a plain `cargo test` shows the figures.
    if !std::env::args().any(|a| a == "--nocapture") && std::env::var_os("RUST_TEST_NOCAPTURE").is_none() {
        let _ = writeln!(std::io::stderr().lock(), "\n{line}\n{detail}");
    }
}

// ---- helpers ----

/// A uv-backed environment, or `None` (said on stderr) when uv is missing.
fn uv_env(test: &str) -> Option<TestEnv> {
    if uv().is_none() {
        eprintln!("SKIPPED {test}: uv is missing (run .ci/run, or set COVE_TEST_UV)");
        return None;
    }
    Some(TestEnv::with_backend("uv"))
}

fn uv_path() -> PathBuf {
    uv().expect("uv")
}

/// A tiny deterministic generator (xorshift64*), seeded and printed so a run can be replayed.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// The seed in `var`: a number replays a run, `random` explores; unset, a fixed seed, so CI
/// sees the same inputs every run (the seed in use is printed).
fn seed_from(var: &str) -> u64 {
    let seed = match std::env::var(var).ok().as_deref() {
        Some("random") => std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64,
        Some(v) => v.parse().unwrap_or(20261124),
        None => 20261124,
    };
    eprintln!("{var}={seed}");
    seed
}

/// A shell script at `path` (made executable).
fn script(path: &Path, body: &str) -> PathBuf {
    std::fs::write(path, format!("#!/bin/sh\n{body}\n")).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path.to_path_buf()
}

/// Run `cmd` the way `python x.py > out` does: stdout to a file, which is returned with the exit
/// status and stderr. Bounded: killed after `limit`.
fn run_to_file(cmd: &mut Command, out: &Path, limit: Duration) -> (ExitStatus, String, String) {
    let file = std::fs::File::create(out).unwrap();
    let mut child = cmd.stdout(file).stderr(Stdio::piped()).spawn().expect("spawn");
    let mut err = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = err.read_to_end(&mut s);
        String::from_utf8_lossy(&s).into_owned()
    });
    let status = wait_bounded(&mut child, limit);
    let stderr = reader.join().unwrap();
    (status, std::fs::read_to_string(out).unwrap_or_default(), stderr)
}

/// Wait for `child`, killing it (and failing) after `limit`.
fn wait_bounded(child: &mut Child, limit: Duration) -> ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(st) = child.try_wait().unwrap() {
            return st;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("a command took longer than {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn output_bounded(cmd: &mut Command, limit: Duration) -> Output {
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn");
    let (mut o, mut e) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let t1 = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = o.read_to_end(&mut v);
        v
    });
    let t2 = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = e.read_to_end(&mut v);
        v
    });
    let status = wait_bounded(&mut child, limit);
    Output { status, stdout: t1.join().unwrap(), stderr: t2.join().unwrap() }
}

/// A panic in the binary: exit 101, "panicked" on stderr, or death by a signal (abort, stack
/// overflow). Counted, and fails the test.
#[track_caller]
fn assert_no_panic(status: &ExitStatus, stderr: &str, what: &str) {
    use std::os::unix::process::ExitStatusExt;
    if status.code() == Some(101) || stderr.contains("panicked") || status.signal().is_some() {
        PANICS.fetch_add(1, Ordering::SeqCst);
        panic!("{what}: cove crashed ({status:?}):\n{stderr}");
    }
}

/// Every environment under `envs/` is complete (published only when built), and no attempt
/// folder is left in `tmp/` (a failed build removes its own).
#[track_caller]
fn assert_no_half_built_env(t: &TestEnv, what: &str) {
    for env in t.envs() {
        let complete =
            env.join(".cove-ready").exists() && env.join("cove-env.json").exists() && env.join("bin/python").exists();
        assert!(complete, "{what}: {} is in envs/ but not complete", env.display());
    }
}

#[track_caller]
fn assert_no_env_left(t: &TestEnv, what: &str) {
    assert!(t.envs().is_empty(), "{what}: an environment was kept: {:?}", t.envs());
    let attempts: Vec<_> = std::fs::read_dir(t.cache.join("tmp")).into_iter().flatten().flatten().collect();
    assert!(attempts.is_empty(), "{what}: a failed attempt was left in tmp/: {attempts:?}");
}

/// The failure contract: exit 1, nothing on stdout, exactly one `cove: error:` line and a hint,
/// no crash, and no environment that looks ready. Counts one fault handled.
#[track_caller]
fn assert_fault(t: &TestEnv, what: &str, (status, out, err): &(ExitStatus, String, String), says: &str) {
    assert_no_panic(status, err, what);
    assert_eq!(status.code(), Some(1), "{what}: exit status\nstderr:\n{err}");
    assert_eq!(out, "", "{what}: stdout must stay empty on failure\nstderr:\n{err}");
    let errors: Vec<&str> = err.lines().filter(|l| l.starts_with("cove: error:")).collect();
    assert_eq!(errors.len(), 1, "{what}: one error line\nstderr:\n{err}");
    assert!(errors[0].contains(says), "{what}: the error should say {says:?}\nstderr:\n{err}");
    assert!(err.lines().any(|l| l.starts_with("  hint: ")), "{what}: a hint line\nstderr:\n{err}");
    assert_no_half_built_env(t, what);
    FAULTS.fetch_add(1, Ordering::SeqCst);
}

/// `python x.py` (printing alpha's version) through the shim in `dir`, stdout to a file.
fn python_x(t: &TestEnv, dir: &Path) -> Command {
    std::fs::write(dir.join("x.py"), "import alpha\nprint('x', alpha.__version__)\n").unwrap();
    t.shims_on();
    let mut c = t.cmd(t.shims().join("python"), dir);
    c.arg("x.py");
    c
}

/// A fresh file for a run's stdout.
fn out_file(t: &TestEnv) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    t.path().join(format!("out-{}", N.fetch_add(1, Ordering::SeqCst)))
}

fn key_of(t: &TestEnv, dir: &Path) -> String {
    t.status(dir)["key"].as_str().unwrap().to_string()
}

fn attempts(t: &TestEnv) -> Vec<PathBuf> {
    std::fs::read_dir(t.cache.join("tmp")).into_iter().flatten().flatten().map(|e| e.path()).collect()
}

/// A tmpfs (or read-only bind) mount, unmounted on drop.
struct Mount(PathBuf);

impl Mount {
    fn tmpfs(at: &Path, size: &str) -> Result<Mount, String> {
        std::fs::create_dir_all(at).unwrap();
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size},mode=0700"), "tmpfs"])
            .arg(at)
            .output()
            .map_err(|e| format!("cannot run mount: {e}"))?;
        if !out.status.success() {
            return Err(format!("mount -t tmpfs failed: {}", String::from_utf8_lossy(&out.stderr).trim()));
        }
        Ok(Mount(at.to_path_buf()))
    }

    /// `at` itself, bind-mounted read-only over itself.
    fn read_only(at: &Path) -> Result<Mount, String> {
        let run = |args: &[&str]| -> Result<(), String> {
            let out = Command::new("mount").args(args).arg(at).arg(at).output().map_err(|e| e.to_string())?;
            if out.status.success() { Ok(()) } else { Err(String::from_utf8_lossy(&out.stderr).trim().to_string()) }
        };
        run(&["--bind"]).map_err(|e| format!("mount --bind failed: {e}"))?;
        let m = Mount(at.to_path_buf());
        run(&["-o", "remount,bind,ro"]).map_err(|e| format!("remount read-only failed: {e}"))?;
        Ok(m)
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).output();
    }
}

// ---- 1. kills ----

/// Builds killed with SIGKILL at a uniformly random moment of a measured build (venv creation,
/// install, marker write, publish), alternating `cove sync --refresh` and a cold shim; after
/// each, `python` through the shim must print the right version. Leftovers go with `cove gc`.
#[test]
fn kills_at_random_moments_never_leave_a_half_built_env() {
    let _done = Done;
    let Some(t) = uv_env("kills") else { return };
    let p = t.project("proj", &["alpha==1.0", "beta"]);
    t.trust(&p);
    t.shims_on();
    assert_ok(&t.cove(&p, &["sync"]));
    let env = t.envs().pop().unwrap();
    // The window kills are drawn from: spawn to published (the "built" line), median of 3.
    let mut times: Vec<Duration> = (0..3)
        .map(|_| {
            let start = Instant::now();
            let mut child = t.cmd(COVE, &p).args(["sync", "--refresh"]).stderr(Stdio::piped()).spawn().unwrap();
            let lines = std::io::BufRead::lines(std::io::BufReader::new(child.stderr.take().unwrap()));
            let built = lines.map_while(Result::ok).find(|l| l.starts_with("cove: built env")).map(|_| start.elapsed());
            assert!(child.wait().unwrap().success());
            built.expect("a build says when it is done")
        })
        .collect();
    times.sort();
    let build = times[1];
    let n: usize = std::env::var("COVE_KILL_ITERATIONS").ok().and_then(|v| v.parse().ok()).unwrap_or(50);
    let seed = seed_from("COVE_KILL_SEED");
    let mut rng = Rng::new(seed);
    // Where each kill landed: from the killed process's own progress lines, and from the cache
    // (a leftover attempt holding the ready marker: after the marker, before the rename; the
    // environment replaced or present: after the rename).
    let mut phases = [0usize; 5];
    let ino = |p: &Path| std::fs::metadata(p).map(|m| std::os::unix::fs::MetadataExt::ino(&m)).ok();
    for i in 0..n {
        let cold = i % 2 == 1;
        if cold {
            let _ = std::fs::remove_dir_all(&env);
        }
        let mut cmd = if cold {
            let mut c = t.cmd(t.shims().join("python"), &p);
            c.args(["-c", PRINT_ALPHA]);
            c
        } else {
            let mut c = t.cmd(COVE, &p);
            c.args(["sync", "--refresh"]);
            c
        };
        let before = ino(&env);
        let mut child = cmd.stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
        let delay = build.mul_f64(rng.unit());
        std::thread::sleep(delay);
        let _ = child.kill();
        let _ = child.wait();
        let mut err = String::new();
        let _ = child.stderr.take().unwrap().read_to_string(&mut err);
        let marked = attempts(&t).iter().any(|a| a.join(".cove-ready").exists());
        let phase = if ino(&env) != before {
            4
        } else if marked {
            3
        } else if err.contains(": installing") {
            2
        } else if err.contains("creating the venv") {
            1
        } else {
            0
        };
        phases[phase] += 1;
        let what =
            format!("kill {i} ({}, after {delay:?}, seed {seed})", if cold { "cold shim" } else { "sync --refresh" });
        assert_no_half_built_env(&t, &what);
        let out =
            output_bounded(t.cmd(t.shims().join("python"), &p).args(["-c", PRINT_ALPHA]), Duration::from_secs(60));
        assert_no_panic(&out.status, &stderr(&out), &what);
        assert!(out.status.success(), "{what}: python failed:\n{}", stderr(&out));
        assert_eq!(stdout(&out), "1.0\n", "{what}");
        KILLS.fetch_add(1, Ordering::SeqCst);
    }
    let left = attempts(&t).len();
    let out = t.cove(&p, &["gc"]);
    assert_ok(&out);
    assert!(attempts(&t).is_empty(), "gc removes every killed attempt:\n{}", stdout(&out));
    assert!(std::fs::read_dir(t.cache.join("trash")).into_iter().flatten().next().is_none());
    assert_eq!(t.envs().len(), 1, "the ready environment stays");
    eprintln!(
        "kills: {n} survived (build {build:?}, seed {seed}); landed before the build {}, in venv creation {}, in install {}, between marker and publish {}, after publish {}; {left} leftovers, all removed by gc",
        phases[0], phases[1], phases[2], phases[3], phases[4]
    );
}

/// SIGKILL of cove leaves its installer running. Here the installer ignores the SIGTERM cove
/// arranges for it, sleeps, then makes its venv: before attempts had folders of their own, it
/// made it in `envs/<key>` and the next build failed with "A virtual environment already
/// exists". See: issue 8.
#[test]
fn an_installer_orphaned_by_kill_cannot_spoil_the_next_build() {
    let _done = Done;
    let Some(t) = uv_env("orphan") else { return };
    let p = t.project("proj", &["alpha==1.0"]);
    t.trust(&p);
    let key = key_of(&t, &p);
    let slow = script(
        &t.path().join("slow-uv"),
        &format!("trap '' TERM\nif [ \"$1\" = venv ]; then sleep 1; fi\nexec '{}' \"$@\"", uv_path().display()),
    );
    let mut first = t.cmd(COVE, &p).args(["sync"]).env("COVE_UV", &slow).stderr(Stdio::null()).spawn().unwrap();
    let log = t.cache.join("logs").join(format!("{key}.log"));
    let deadline = Instant::now() + Duration::from_secs(30);
    while !log.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    // The log opens just before the installer starts; give it time to start and set its trap.
    std::thread::sleep(Duration::from_millis(250));
    first.kill().unwrap();
    first.wait().unwrap();
    // The orphan is asleep; a new build starts at once.
    let out = output_bounded(t.cmd(COVE, &p).args(["sync"]).env("COVE_UV", &slow), Duration::from_secs(60));
    assert_no_panic(&out.status, &stderr(&out), "orphan");
    assert!(out.status.success(), "the build after a kill must not be spoiled by the orphan:\n{}", stderr(&out));
    let deadline = Instant::now() + Duration::from_secs(10);
    while attempts(&t).is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(attempts(&t).len(), 1, "the orphan made its venv, in its own attempt's folder");
    std::thread::sleep(Duration::from_millis(300));
    let out = t.shim("python", &p, &["-c", PRINT_ALPHA]);
    assert_stdout(&out, "1.0\n");
    assert_no_half_built_env(&t, "orphan");
    let out = t.cove(&p, &["gc"]);
    assert_ok(&out);
    assert!(attempts(&t).is_empty(), "the orphan's folder goes with gc:\n{}", stdout(&out));
    KILLS.fetch_add(1, Ordering::SeqCst);
}

/// uv installs through a slot, a link to the attempt's folder that every build reuses (see
/// `src/staging.rs`). An installer orphaned mid-install keeps the slot's lock, which it
/// inherited: the next build takes another slot, so the orphan's late writes land in its own
/// attempt's folder (gone by then: the next build removed it as a leftover), never in the next
/// build's environment. Here the orphan installs `gamma` too, while the next build's install is
/// still pending (its output to /dev/null: writing to the dead cove's pipe would kill it).
#[test]
fn an_installer_orphaned_mid_install_keeps_its_slot() {
    let _done = Done;
    let Some(t) = uv_env("orphan in a slot") else { return };
    let p = t.project("proj", &["alpha==1.0"]);
    t.trust(&p);
    let started = t.path().join("orphan-started");
    let meddler = script(
        &t.path().join("meddling-uv"),
        &format!(
            "if [ \"$1\" = pip ] && [ ! -e '{m}' ]; then : > '{m}'; trap '' TERM; sleep 1; exec '{uv}' \"$@\" gamma >/dev/null 2>&1; fi\n\
             if [ \"$1\" = pip ]; then sleep 2; fi\nexec '{uv}' \"$@\"",
            m = started.display(),
            uv = uv_path().display()
        ),
    );
    let mut first = t.cmd(COVE, &p).args(["sync"]).env("COVE_UV", &meddler).stderr(Stdio::null()).spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !started.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(started.exists(), "the first build reached its install");
    first.kill().unwrap();
    first.wait().unwrap();
    // The orphan wakes and installs (through its slot) while this build waits to install.
    let out = output_bounded(t.cmd(COVE, &p).args(["sync"]).env("COVE_UV", &meddler), Duration::from_secs(60));
    assert_no_panic(&out.status, &stderr(&out), "orphan in a slot");
    assert!(out.status.success(), "the build after the kill:\n{}", stderr(&out));
    // Past the orphan's install.
    std::thread::sleep(Duration::from_millis(500));
    let env = t.envs().pop().expect("the environment");
    let site = std::fs::read_dir(env.join("lib")).unwrap().flatten().next().unwrap().path().join("site-packages");
    assert!(site.join("alpha").exists());
    assert!(!site.join("gamma").exists(), "the orphan wrote into the next build's environment");
    let out = t.shim("python", &p, &["-c", PRINT_ALPHA]);
    assert_stdout(&out, "1.0\n");
    assert_no_half_built_env(&t, "orphan in a slot");
    KILLS.fetch_add(1, Ordering::SeqCst);
}

// ---- 2. races ----

/// 16 processes at once on a cold key — shims, `cove run` and `cove sync` — build it once; the
/// others wait, saying so, and all succeed.
#[test]
fn sixteen_processes_on_a_cold_key_build_once() {
    let _done = Done;
    let Some(t) = uv_env("race") else { return };
    let p = t.project("proj", &["alpha==1.0", "beta"]);
    t.trust(&p);
    t.shims_on();
    let children: Vec<(usize, Child)> = (0..16)
        .map(|i| {
            let mut c = match i % 4 {
                0 | 1 => {
                    let mut c = t.cmd(t.shims().join("python"), &p);
                    c.args(["-c", PRINT_ALPHA]);
                    c
                }
                2 => {
                    let mut c = t.cmd(COVE, &p);
                    c.args(["run", "python", "-c", PRINT_ALPHA]);
                    c
                }
                _ => {
                    let mut c = t.cmd(COVE, &p);
                    c.arg("sync");
                    c
                }
            };
            (i, c.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap())
        })
        .collect();
    let (mut builds, mut waited) = (0, 0);
    for (i, child) in children {
        let out = child.wait_with_output().unwrap();
        let err = stderr(&out);
        assert_no_panic(&out.status, &err, "race");
        assert!(out.status.success(), "process {i} failed:\n{err}");
        if i % 4 != 3 {
            assert_eq!(stdout(&out), "1.0\n", "process {i}");
        }
        builds += err.lines().filter(|l| l.starts_with("cove: building environment")).count();
        waited += usize::from(err.contains("cove: waiting for another process building"));
        RACES.fetch_add(1, Ordering::SeqCst);
    }
    assert_eq!(builds, 1, "one build for 16 processes");
    assert!(waited >= 1, "the processes that found the build under way say they wait");
    assert_eq!(t.envs().len(), 1);
    eprintln!("race: 16 succeeded, 1 build, {waited} waited");
}

/// `cove sync --refresh` while other processes keep running the environment: the refresh is
/// built aside and swapped in atomically, so a process that imports during the swap, and runs
/// started meanwhile, never find it missing or half there.
#[test]
fn refresh_while_other_processes_run_the_env() {
    let _done = Done;
    let Some(t) = uv_env("refresh") else { return };
    let p = t.project("proj", &["alpha==1.0", "beta"]);
    t.trust(&p);
    t.shims_on();
    assert_ok(&t.cove(&p, &["sync"]));
    // Re-imports until the test says stop (a file appears), so it spans every refresh.
    let reimporter = "import importlib, os, sys, time\n\
        end = time.time() + 120\n\
        n = 0\n\
        while time.time() < end and not os.path.exists('stop'):\n\
        \x20   for m in ('alpha', 'beta'):\n\
        \x20       sys.modules.pop(m, None)\n\
        \x20   importlib.invalidate_caches()\n\
        \x20   import alpha, beta\n\
        \x20   assert alpha.__version__ == '1.0'\n\
        \x20   n += 1\n\
        print(n)\n";
    std::fs::write(p.join("reimport.py"), reimporter).unwrap();
    let long =
        t.cmd(t.shims().join("python"), &p).arg("reimport.py").stdout(Stdio::piped()).stderr(Stdio::piped()).spawn();
    let long = long.unwrap();
    let stop = std::sync::atomic::AtomicBool::new(false);
    let runs: usize = std::thread::scope(|scope| {
        let runners: Vec<_> = (0..2)
            .map(|_| {
                scope.spawn(|| {
                    let mut runs = 0;
                    while !stop.load(Ordering::SeqCst) {
                        let out = t.cmd(t.shims().join("python"), &p).args(["-c", PRINT_ALPHA]).output().unwrap();
                        assert!(out.status.success(), "a run during refresh failed:\n{}", stderr(&out));
                        assert_eq!(stdout(&out), "1.0\n");
                        runs += 1;
                    }
                    runs
                })
            })
            .collect();
        for _ in 0..3 {
            assert_ok(&t.cove(&p, &["sync", "--refresh"]));
        }
        stop.store(true, Ordering::SeqCst);
        std::fs::write(p.join("stop"), "").unwrap();
        runners.into_iter().map(|r| r.join().expect("a run during refresh failed")).sum()
    });
    let out = long.wait_with_output().unwrap();
    assert!(out.status.success(), "a process importing during the refresh failed:\n{}", stderr(&out));
    assert_no_half_built_env(&t, "refresh");
    assert!(attempts(&t).is_empty(), "the swapped-out copies are deleted");
    RACES.fetch_add(1, Ordering::SeqCst);
    eprintln!("refresh: 3 refreshes under {runs} runs and {} re-imports", stdout(&out).trim());
}

/// `cove gc` (also with a size cap of 0) while a build is in progress never removes it.
#[test]
fn gc_during_a_build_never_removes_it() {
    let _done = Done;
    let Some(t) = uv_env("gc during build") else { return };
    let p = t.project("proj", &["alpha==1.0"]);
    t.trust(&p);
    let slow = script(
        &t.path().join("slow-uv"),
        &format!("if [ \"$1\" = pip ]; then sleep 1.5; fi\nexec '{}' \"$@\"", uv_path().display()),
    );
    let mut build = t.cmd(COVE, &p);
    let build =
        build.args(["sync"]).env("COVE_UV", &slow).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while attempts(&t).is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(!attempts(&t).is_empty(), "the build's attempt folder appears");
    for args in [&["gc"][..], &["gc", "--max-size", "0", "--older-than", "0d"][..]] {
        let out = t.cove(&p, args);
        assert_ok(&out);
        assert!(stdout(&out).contains("being built (its lock is held)"), "{}", stdout(&out));
        assert_eq!(attempts(&t).len(), 1, "gc left the build alone");
    }
    let out = build.wait_with_output().unwrap();
    assert!(out.status.success(), "the build gc ran beside finished:\n{}", stderr(&out));
    let out = t.shim("python", &p, &["-c", PRINT_ALPHA]);
    assert_stdout(&out, "1.0\n");
    RACES.fetch_add(1, Ordering::SeqCst);
}

// ---- 3. faults ----

/// The installer missing, failing, or unable to reach its index: one error line with a hint,
/// the installer's output on stderr only, nothing kept.
#[test]
fn installer_faults_give_one_clear_error() {
    let _done = Done;
    let Some(t) = uv_env("installer faults") else { return };
    let p = t.project("proj", &["alpha==1.0"]);
    t.trust(&p);
    let limit = Duration::from_secs(120);

    let r = run_to_file(python_x(&t, &p).env("COVE_UV", "/nonexistent/uv"), &out_file(&t), limit);
    assert_fault(&t, "installer missing", &r, "COVE_UV=/nonexistent/uv is not an executable file");
    assert_no_env_left(&t, "installer missing");
    let r = run_to_file(python_x(&t, &p).env("COVE_UV", "uv"), &out_file(&t), limit);
    assert_fault(&t, "installer named relatively", &r, "COVE_UV=uv is not an executable file");

    let failing = script(&t.path().join("failing-uv"), "echo noise-on-stdout\necho noise-on-stderr >&2\nexit 3");
    let r = run_to_file(python_x(&t, &p).env("COVE_UV", &failing), &out_file(&t), limit);
    assert_fault(&t, "installer exits 3", &r, "installing the virtual environment failed (exit status 3)");
    assert!(r.2.contains("noise-on-stdout") && r.2.contains("noise-on-stderr"), "its output is shown:\n{}", r.2);
    assert_no_env_left(&t, "installer exits 3");

    let q = t.path().join("offline");
    std::fs::create_dir_all(&q).unwrap();
    // Port 9 (discard) on loopback: closed, so the connection is refused at once.
    std::fs::write(
        q.join("cove.toml"),
        "dependencies = [\"alpha==1.0\"]\n[index]\nurl = \"http://127.0.0.1:9/simple\"\n",
    )
    .unwrap();
    t.trust(&q);
    for backend in ["uv", "pip"] {
        let r = run_to_file(python_x(&t, &q).env("COVE_BACKEND", backend), &out_file(&t), limit);
        assert_fault(&t, &format!("index unreachable ({backend})"), &r, "installing the requirements failed");
        assert_no_env_left(&t, "index unreachable");
    }
}

/// A full disk during the build and a read-only cache: one error naming the path, nothing that
/// looks ready; a ready environment in a read-only cache still runs.
#[test]
fn disk_full_and_read_only_caches() {
    let _done = Done;
    let Some(t) = uv_env("disk full") else { return };
    let p = t.project("proj", &["alpha==1.0", "beta"]);
    t.trust(&p);
    let limit = Duration::from_secs(120);
    for backend in ["uv", "pip"] {
        let small = t.path().join(format!("small-{backend}"));
        match Mount::tmpfs(&small, "3M") {
            Err(why) => {
                eprintln!("SKIPPED disk full ({backend}): {why}");
                break;
            }
            Ok(_mount) => {
                let cache = small.join("cache");
                let r = run_to_file(
                    python_x(&t, &p).env("COVE_CACHE_DIR", &cache).env("COVE_BACKEND", backend),
                    &out_file(&t),
                    limit,
                );
                assert_fault(&t, &format!("disk full ({backend})"), &r, "");
                assert!(r.2.contains("No space left on device"), "says why:\n{}", r.2);
                let ready = std::fs::read_dir(cache.join("envs")).into_iter().flatten().count();
                assert_eq!(ready, 0, "nothing published on the full disk");
                let left = std::fs::read_dir(cache.join("tmp")).into_iter().flatten().count();
                assert_eq!(left, 0, "the failed attempt removed itself");
            }
        }
    }

    // Read-only: cold → an error naming the folder; warm → runs.
    let ro = t.path().join("ro-cache");
    std::fs::create_dir_all(&ro).unwrap();
    match Mount::read_only(&ro) {
        Err(why) => eprintln!("SKIPPED read-only cache (cold): {why}"),
        Ok(_m) => {
            let r = run_to_file(python_x(&t, &p).env("COVE_CACHE_DIR", &ro), &out_file(&t), limit);
            assert_fault(&t, "read-only cache (cold)", &r, "Read-only file system");
            assert!(r.2.contains(&ro.display().to_string()), "names the folder:\n{}", r.2);
        }
    }
    assert_ok(&t.cove(&p, &["sync"]));
    match Mount::read_only(&t.cache) {
        Err(why) => eprintln!("SKIPPED read-only cache (warm): {why}"),
        Ok(_m) => {
            let (st, out, err) = run_to_file(&mut python_x(&t, &p), &out_file(&t), limit);
            assert!(st.success(), "a ready environment runs from a read-only cache:\n{err}");
            assert_eq!(out, "x 1.0\n");
            FAULTS.fetch_add(1, Ordering::SeqCst);
        }
    }
}

/// A cache another user owns, or that others can write (root or `envs/`), is refused, cold and
/// warm: an environment planted there would run as the user. So is such a trust store.
#[test]
fn caches_others_could_write_are_refused() {
    let _done = Done;
    let Some(t) = uv_env("unsafe cache") else { return };
    let p = t.project("proj", &["alpha==1.0"]);
    t.trust(&p);
    let limit = Duration::from_secs(60);
    use std::os::unix::fs::PermissionsExt;
    let chmod = |dir: &Path, mode: u32| std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode)).unwrap();

    std::fs::create_dir_all(&t.cache).unwrap();
    chmod(&t.cache, 0o777);
    let r = run_to_file(&mut python_x(&t, &p), &out_file(&t), limit);
    assert_fault(&t, "world-writable cache (cold)", &r, "others can write to it (mode 777)");
    assert_no_env_left(&t, "world-writable cache");
    chmod(&t.cache, 0o700);

    assert_ok(&t.cove(&p, &["sync"]));
    chmod(&t.cache.join("envs"), 0o775);
    let r = run_to_file(&mut python_x(&t, &p), &out_file(&t), limit);
    assert_fault(&t, "group-writable envs/ (warm)", &r, "others can write to it (mode 775)");
    chmod(&t.cache.join("envs"), 0o700);

    use std::os::unix::fs::MetadataExt;
    let me = std::fs::metadata(&t.cache).unwrap().uid();
    if me == 0 {
        std::os::unix::fs::chown(&t.cache, Some(65534), None).unwrap();
        let r = run_to_file(&mut python_x(&t, &p), &out_file(&t), limit);
        assert_fault(&t, "cache owned by another user (warm)", &r, "belongs to another user (uid 65534)");
        std::os::unix::fs::chown(&t.cache, Some(me), None).unwrap();
    } else {
        eprintln!("SKIPPED cache owned by another user: not root, cannot chown");
    }
    // The trust store: a record planted there would let any manifest build.
    let store = t.data.join("trust");
    chmod(&store, 0o777);
    let r = run_to_file(&mut python_x(&t, &p), &out_file(&t), limit);
    assert_fault(&t, "world-writable trust store", &r, &format!("refusing to use {}", store.display()));
    assert!(r.2.contains("COVE_HOME"), "the hint names the setting:\n{}", r.2);
    chmod(&store, 0o700);

    let (st, out, err) = run_to_file(&mut python_x(&t, &p), &out_file(&t), limit);
    assert!(st.success(), "fixed, it runs again:\n{err}");
    assert_eq!(out, "x 1.0\n");
}

/// The manifest changed or deleted while its environment builds: the build finishes for what
/// was read (trusted, and what the key says), says the file changed, and the next run sees the
/// new content — untrusted until trusted again, or no project at all.
#[test]
fn the_manifest_changed_or_deleted_during_a_build() {
    let _done = Done;
    let Some(t) = uv_env("manifest during build") else { return };
    let limit = Duration::from_secs(60);
    let cases = [
        ("changed", &["alpha==1.0"][..], "sed -i 's/alpha==1.0/alpha==2.0/'"),
        ("deleted", &["alpha==1.0", "beta"][..], "rm"),
    ];
    for (case, deps, action) in cases {
        let p = t.project(case, deps);
        t.trust(&p);
        // Installers run in `/`, not the project: the manifest by its full path.
        let action = format!("{action} '{}'", p.join("cove.toml").display());
        let meddler = script(
            &t.path().join(format!("meddling-uv-{case}")),
            &format!("if [ \"$1\" = pip ]; then {action}; fi\nexec '{}' \"$@\"", uv_path().display()),
        );
        let (st, out, err) = run_to_file(python_x(&t, &p).env("COVE_UV", &meddler), &out_file(&t), limit);
        assert_no_panic(&st, &err, case);
        assert!(st.success(), "{case}: the build of what was read finishes:\n{err}");
        assert_eq!(out, "x 1.0\n", "{case}: it runs what was read and trusted");
        assert!(err.contains("changed during the build"), "{case}: says so:\n{err}");
        assert_no_half_built_env(&t, case);
        let next = if case == "changed" {
            run_to_file(&mut python_x(&t, &p), &out_file(&t), limit)
        } else {
            run_to_file(t.cmd(COVE, &p).arg("sync"), &out_file(&t), limit)
        };
        let says = if case == "changed" {
            "changed since you trusted it (~alpha==1.0 → alpha==2.0)"
        } else {
            "no project found"
        };
        assert_fault(&t, &format!("manifest {case} during a build, next run"), &next, says);
    }
}

/// Project folders with spaces, bytes that are not UTF-8, reached through a symlink, and a cache
/// whose path has a space (console scripts then need the `/bin/sh` form of `#!`, which survives
/// the move from the build's attempt folder).
#[test]
fn odd_project_and_cache_paths_work() {
    let _done = Done;
    let Some(t) = uv_env("odd paths") else { return };
    use std::os::unix::ffi::OsStrExt;
    let limit = Duration::from_secs(60);
    let spaced = t.project("my project", &["alpha==1.0"]);
    let raw = t.path().join(std::ffi::OsStr::from_bytes(b"proj-\xff"));
    std::fs::create_dir_all(&raw).unwrap();
    t.write_cove_toml(&raw, &["alpha==1.0"]);
    let real = t.project("real", &["alpha==1.0"]);
    let link = t.path().join("linked");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    // The non-UTF-8 folder builds first: writing `cove-env.json` once panicked on its path.
    for (what, dir) in [("non-UTF-8", &raw), ("space", &spaced), ("symlinked", &link)] {
        t.trust(dir);
        let (st, out, err) = run_to_file(&mut python_x(&t, dir), &out_file(&t), limit);
        assert_no_panic(&st, &err, what);
        assert!(st.success(), "{what}: {err}");
        assert_eq!(out, "x 1.0\n", "{what}");
        FAULTS.fetch_add(1, Ordering::SeqCst);
    }
    assert_eq!(key_of(&t, &link), key_of(&t, &real), "a symlinked folder is the same project");
    assert_eq!(t.status(&link)["project"].as_str(), real.to_str(), "named by its real path");

    // Two package projects whose folder names differ only in a byte that is not UTF-8 get
    // layers of their own (their display is the same).
    let a = package_project(t.path(), "pkg-a", "pkga", "1.0", &[]);
    let mut layers = Vec::new();
    for byte in [b'\xfe', b'\xff'] {
        let dir = t.path().join(std::ffi::OsStr::from_bytes(&[b'p', byte]));
        std::fs::create_dir_all(&dir).unwrap();
        for f in ["pyproject.toml", "_backend/tinybackend.py", "src/pkga/__init__.py"] {
            std::fs::create_dir_all(dir.join(f).parent().unwrap()).unwrap();
            std::fs::copy(a.join(f), dir.join(f)).unwrap();
        }
        layers.push(t.status(&dir)["env"].as_str().unwrap().to_string());
    }
    assert_ne!(layers[0], layers[1], "each project folder has its own layer");
    FAULTS.fetch_add(1, Ordering::SeqCst);

    let mut spaced_cache = TestEnv::with_backend("uv");
    spaced_cache.cache = spaced_cache.path().join("cache with space");
    let q = spaced_cache.project("proj", &["alpha==1.0"]);
    spaced_cache.trust(&q);
    let out = spaced_cache.cove(&q, &["run", "pip", "--version"]);
    assert_ok(&out);
    assert!(stdout(&out).contains("cache with space"), "{}", stdout(&out));
    // Neither the attempt's folder nor the slot uv installed through is left in any script.
    for entry in std::fs::read_dir(spaced_cache.envs()[0].join("bin")).unwrap().flatten() {
        let Ok(text) = std::fs::read_to_string(entry.path()) else { continue };
        for gone in ["tmp", "slots"] {
            let gone = spaced_cache.cache.join(gone);
            assert!(!text.contains(&*gone.to_string_lossy()), "{} left in {:?}:\n{text}", gone.display(), entry.path());
        }
    }
    FAULTS.fetch_add(1, Ordering::SeqCst);
}

/// Settings that are paths: relative ones are refused (they would mean a cache per folder, or
/// trust for whatever folder one stands in); empty means unset.
#[test]
fn path_settings_are_validated() {
    let _done = Done;
    let t = TestEnv::new();
    let p = t.project("proj", &["alpha==1.0"]);
    let limit = Duration::from_secs(30);
    let r = run_to_file(t.cmd(COVE, &p).arg("status").env("COVE_CACHE_DIR", "relative/cache"), &out_file(&t), limit);
    assert_fault(&t, "COVE_CACHE_DIR relative", &r, "COVE_CACHE_DIR must be an absolute path, not \"relative/cache\"");
    let r = run_to_file(t.cmd(COVE, &p).arg("status").env("COVE_HOME", "."), &out_file(&t), limit);
    assert_fault(&t, "COVE_HOME relative", &r, "COVE_HOME must be an absolute path");
    let out = t.cmd(COVE, &p).args(["status", "--json"]).env("COVE_CACHE_DIR", "").output().unwrap();
    assert_ok(&out);
    let st: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(st["env"].as_str().unwrap().starts_with(&t.home.display().to_string()), "empty means the default: {st}");
    FAULTS.fetch_add(1, Ordering::SeqCst);
    std::fs::write(&t.config, "trusted-dirs = [\".\"]\n").unwrap();
    let r = run_to_file(t.cmd(COVE, &p).arg("status"), &out_file(&t), limit);
    assert_fault(
        &t,
        "trusted-dirs relative",
        &r,
        "config.toml:1:17: `trusted-dirs` entry \".\" is not an absolute path",
    );
}

// ---- 4. hostile input ----

/// A project folder holding `bytes` as the manifest that `name`'s suffix says (or, for
/// `*.config.toml`, as the config file `config`, beside a plain project).
fn nasty_project(root: &Path, config: &Path, name: &str, bytes: &[u8]) -> (PathBuf, Vec<String>) {
    let dir = root.join(name.replace('.', "_"));
    std::fs::create_dir_all(&dir).unwrap();
    let _ = std::fs::remove_file(config);
    let (file, args): (&str, Vec<String>) = if name.ends_with(".config.toml") {
        std::fs::write(config, bytes).unwrap();
        std::fs::write(dir.join("cove.toml"), "dependencies = []\n").unwrap();
        return (dir, vec!["status".into()]);
    } else if name.ends_with(".cove.toml") {
        ("cove.toml", vec!["status".into()])
    } else if name.ends_with(".pyproject.toml") {
        ("pyproject.toml", vec!["status".into()])
    } else if name.ends_with(".requirements.txt") {
        ("requirements.txt", vec!["status".into()])
    } else {
        ("script.py", vec!["run".into(), "script.py".into()])
    };
    std::fs::write(dir.join(file), bytes).unwrap();
    (dir, args)
}

/// Run `cove ARGS` in a nasty project: no crash, at most 20 s, success or one error line. An
/// error about the manifest names a line and column.
fn try_nasty(t: &TestEnv, name: &str, dir: &Path, args: &[String]) -> Duration {
    let start = Instant::now();
    let out = output_bounded(t.cmd(COVE, dir).args(args), Duration::from_secs(20));
    let took = start.elapsed();
    let err = stderr(&out);
    assert_no_panic(&out.status, &err, name);
    assert!(matches!(out.status.code(), Some(0 | 1)), "{name}: exit {:?}\n{err}", out.status);
    if !out.status.success() {
        let errors: Vec<&str> = err.lines().filter(|l| l.starts_with("cove: error:")).collect();
        assert_eq!(errors.len(), 1, "{name}: one error line:\n{err}");
        let names_file = ["cove.toml:", "pyproject.toml:", "requirements.txt:", "script.py:", "config.toml:"]
            .iter()
            .find(|f| errors[0].contains(*f));
        // A parse error reads `…/cove.toml:LINE:COL: …`; a file-level one (too large, not a
        // regular file) names the file alone.
        let at_line = names_file.filter(|f| {
            let rest = &errors[0][errors[0].find(**f).unwrap() + f.len()..];
            rest.starts_with(|c: char| c.is_ascii_digit())
        });
        if let Some(f) = at_line {
            let rest = &errors[0][errors[0].find(f).unwrap() + f.len()..];
            let mut parts = rest.splitn(3, ':');
            let (line, col) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
            assert!(
                line.parse::<usize>().is_ok() && col.parse::<usize>().is_ok(),
                "{name}: an error about the manifest names line and column:\n{err}"
            );
        }
    }
    INPUTS.fetch_add(1, Ordering::SeqCst);
    took
}

/// The checked-in corpus, generated giants, and random bytes and damaged corpus files, through
/// `cove status` (and `cove run` for scripts).
#[test]
fn nasty_manifests_never_crash_the_binary() {
    let _done = Done;
    let t = TestEnv::new();
    let root = t.path().join("nasty");
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/nasty");
    let mut cases: Vec<(String, Vec<u8>)> = std::fs::read_dir(&corpus)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != "README.md")
        .map(|n| (n.clone(), std::fs::read(corpus.join(&n)).unwrap()))
        .collect();
    cases.sort();
    let n = 10_000;
    let many: String = (0..n).map(|i| format!("pkg-{i:05}>={}.0\n", i % 7)).collect();
    cases.push(("ten_thousand.requirements.txt".into(), many.clone().into_bytes()));
    let list: Vec<String> = many.lines().map(|l| format!("{l:?}")).collect();
    cases.push(("ten_thousand.cove.toml".into(), format!("dependencies = [{}]\n", list.join(",\n")).into_bytes()));
    cases.push(("deep_arrays.cove.toml".into(), format!("x = {}{}\n", "[".repeat(n), "]".repeat(n)).into_bytes()));
    cases.push(("deep_tables.cove.toml".into(), format!("x = {}{}\n", "{a=".repeat(n), "}".repeat(n)).into_bytes()));
    cases.push((
        "deep_tool_tables.pyproject.toml".into(),
        format!("[tool.cove]\nindex = {}1{}\n", "{a=".repeat(n), "}".repeat(n)).into_bytes(),
    ));
    let chain: String = (0..2000).map(|i| format!("g{i} = [{{include-group = \"g{}\"}}]\n", i + 1)).collect();
    cases.push((
        "group_chain.pyproject.toml".into(),
        format!(
            "[project]\nname = \"x\"\n[tool.cove]\ngroups = [\"g0\"]\n[dependency-groups]\n{chain}g2000 = [\"alpha\"]\n"
        )
        .into_bytes(),
    ));
    cases.push(("long_line.requirements.txt".into(), format!("alpha{}\n", "[x".repeat(32 << 10)).into_bytes()));
    let mut huge = b"# ".to_vec();
    huge.resize(33 << 20, b'x');
    cases.push(("huge.cove.toml".into(), huge));

    let mut slowest = (Duration::ZERO, String::new());
    for (name, bytes) in &cases {
        let (dir, args) = nasty_project(&root, &t.config, name, bytes);
        let took = try_nasty(&t, name, &dir, &args);
        if took > slowest.0 {
            slowest = (took, name.clone());
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    // Random bytes, and corpus files with random damage.
    let seed = seed_from("COVE_NASTY_SEED");
    let mut rng = Rng::new(seed);
    let small: Vec<&(String, Vec<u8>)> = cases.iter().filter(|(_, b)| b.len() < 4096).collect();
    for i in 0..150 {
        let (name, mut bytes) = match i % 3 {
            0 => {
                let suffixes = [".cove.toml", ".pyproject.toml", ".requirements.txt", ".script.py", ".config.toml"];
                let suffix = suffixes[rng.below(suffixes.len())];
                let len = rng.below(200);
                let mut b: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
                if suffix == ".script.py" {
                    b.splice(0..0, b"# /// script\n# ".iter().copied());
                }
                (format!("random{i}{suffix}"), b)
            }
            _ => {
                let (n, b) = small[rng.below(small.len())];
                (format!("damaged{i}-{n}"), b.clone())
            }
        };
        for _ in 0..1 + rng.below(4) {
            if bytes.is_empty() {
                break;
            }
            let at = rng.below(bytes.len());
            match rng.below(3) {
                0 => bytes[at] = rng.next() as u8,
                1 => {
                    bytes.remove(at);
                }
                _ => {
                    let nasty = b"\"'[]{}=#\\\n\r\0";
                    bytes.insert(at, nasty[rng.below(nasty.len())]);
                }
            }
        }
        let (dir, args) = nasty_project(&root, &t.config, &name, &bytes);
        try_nasty(&t, &format!("{name} (seed {seed})"), &dir, &args);
        let _ = std::fs::remove_dir_all(&dir);
    }
    let _ = std::fs::remove_file(&t.config);
    eprintln!("nasty: {} corpus and generated cases, 150 random (seed {seed}); slowest {slowest:?}", cases.len());
}

/// Pipes and devices where cove reads files: `python <(…)` must get its script (cove once read
/// the pipe to look for a `# /// script` block, and Python found it empty), and a FIFO or
/// `/dev/zero` as a manifest, an include or `.python-version` must not hang cove.
#[test]
fn pipes_and_devices_are_never_read_as_manifests() {
    let _done = Done;
    let t = TestEnv::new();
    t.shims_on();
    let limit = Duration::from_secs(20);
    let outside = t.path().join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    let out = output_bounded(t.cmd("bash", &outside).args(["-c", "python3 <(echo 'print(42)')"]), limit);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "42\n", "python <(…) gets its script");
    FAULTS.fetch_add(1, Ordering::SeqCst);

    let fifo = |path: &Path| {
        let st = Command::new("mkfifo").arg(path).status().unwrap();
        assert!(st.success());
    };
    let p = t.project("fifo-python-version", &["alpha==1.0"]);
    fifo(&p.join(".python-version"));
    let q = t.path().join("fifo-pyproject");
    std::fs::create_dir_all(&q).unwrap();
    fifo(&q.join("pyproject.toml"));
    std::fs::write(q.join("requirements.txt"), "alpha==1.0\n").unwrap();
    let r = t.path().join("fifo-include");
    std::fs::create_dir_all(&r).unwrap();
    fifo(&r.join("more.txt"));
    std::fs::write(r.join("requirements.txt"), "alpha==1.0\n-r more.txt\n").unwrap();
    let z = t.path().join("dev-zero");
    std::fs::create_dir_all(&z).unwrap();
    std::os::unix::fs::symlink("/dev/zero", z.join("pyproject.toml")).unwrap();
    std::fs::write(z.join("cove.toml"), "dependencies = []\n").unwrap();
    std::os::unix::fs::symlink("/dev/zero", z.join(".python-version")).unwrap();
    for (what, dir, ok) in [
        ("fifo .python-version", &p, true),
        ("fifo pyproject.toml", &q, true),
        ("fifo include", &r, false),
        ("/dev/zero", &z, true),
    ] {
        let out = output_bounded(t.cmd(COVE, dir).arg("status"), limit);
        assert_no_panic(&out.status, &stderr(&out), what);
        assert_eq!(out.status.success(), ok, "{what}:\n{}", stderr(&out));
        if !ok {
            assert!(stderr(&out).contains("requirements.txt:2:4: cannot read more.txt"), "{what}: {}", stderr(&out));
        }
        FAULTS.fetch_add(1, Ordering::SeqCst);
    }
}

// ---- 5. recursion and PATH ----

/// pyenv's root for the pyenv tests: `$PYENV_ROOT`, `pyenv root`, or `~/.pyenv` of the real
/// home; `None` when there is no pyenv with shims and versions.
fn pyenv_root() -> Option<PathBuf> {
    let candidates = [
        std::env::var_os("PYENV_ROOT").map(PathBuf::from),
        Command::new("pyenv")
            .arg("root")
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim())),
        std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".pyenv")),
    ];
    candidates.into_iter().flatten().find(|r| r.join("shims/python").exists() && r.join("versions").is_dir())
}

/// The shims folder twice on PATH, reached through a symlinked folder, and in front of pyenv's
/// shims: pass-through finds the real program, never itself; in a project the env runs.
#[test]
fn shims_never_loop_whatever_the_path() {
    let _done = Done;
    let t = TestEnv::new();
    t.shims_on();
    let outside = t.path().join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    let link = t.path().join("shims-link");
    std::os::unix::fs::symlink(t.shims(), &link).unwrap();
    let real = std::fs::canonicalize(system_python()).unwrap();
    let exe = "import sys, os; print(os.path.realpath(sys.executable))";
    let limit = Duration::from_secs(30);
    let shims = t.shims().display().to_string();
    let sys_path = format!("{}:/usr/bin:/bin", real.parent().unwrap().display());
    for (what, path) in [
        ("twice", format!("{shims}:{shims}:{sys_path}")),
        ("symlinked folder", format!("{}:{sys_path}", link.display())),
        ("both", format!("{shims}:{}:{shims}:{sys_path}", link.display())),
    ] {
        let out =
            output_bounded(t.cmd(t.shims().join("python3"), &outside).env("PATH", &path).args(["-c", exe]), limit);
        assert_no_panic(&out.status, &stderr(&out), what);
        assert!(out.status.success(), "{what}: {}", stderr(&out));
        assert_eq!(stdout(&out).trim(), real.display().to_string(), "{what}");
        FAULTS.fetch_add(1, Ordering::SeqCst);
    }

    let Some(root) = pyenv_root() else {
        eprintln!("SKIPPED pyenv cases: no pyenv found ($PYENV_ROOT, `pyenv root`, ~/.pyenv)");
        return;
    };
    let version = std::fs::read_dir(root.join("versions"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|v| v.starts_with("3.") && root.join("versions").join(v).join("bin/python3").exists())
        .max_by_key(|v| v.split('.').map(|x| x.parse::<u32>().unwrap_or(0)).collect::<Vec<_>>())
        .expect("a pyenv 3.x version");
    let pyenv_path = format!("{shims}:{}:{}:/usr/bin:/bin", link.display(), root.join("shims").display());
    // python3: pyenv's `system` finds /usr/bin/python3 (there is often no /usr/bin/python).
    let want = std::fs::canonicalize(root.join("versions").join(&version).join("bin/python3")).unwrap();
    let run = |dir: &Path, pyenv_version: &str, args: &[&str]| {
        output_bounded(
            t.cmd(t.shims().join("python3"), dir)
                .env("PATH", &pyenv_path)
                .env("PYENV_ROOT", &root)
                .env("PYENV_VERSION", pyenv_version)
                .args(args),
            limit,
        )
    };
    let out = run(&outside, &version, &["-c", exe]);
    assert!(out.status.success(), "pyenv {version}: {}", stderr(&out));
    assert_eq!(stdout(&out).trim(), want.display().to_string(), "pyenv's choice runs");
    FAULTS.fetch_add(1, Ordering::SeqCst);
    if Path::new("/usr/bin/python3").exists() {
        // pyenv's `system` looks `python` up on PATH again, past its own shims: the shims
        // folder's alias (the symlinked folder) must be gone from PATH by then, or it loops.
        let out = run(&outside, "system", &["-c", exe]);
        assert_no_panic(&out.status, &stderr(&out), "pyenv system");
        assert!(out.status.success(), "pyenv system: {}", stderr(&out));
        let system = std::fs::canonicalize("/usr/bin/python3").unwrap();
        assert_eq!(stdout(&out).trim(), system.display().to_string(), "pyenv system runs the system python");
        FAULTS.fetch_add(1, Ordering::SeqCst);
    } else {
        eprintln!("SKIPPED pyenv system: no /usr/bin/python3");
    }
    // In a project, pyenv's shim as the first python3 resolves to the real interpreter.
    let p = t.project("proj", &["alpha==1.0"]);
    t.trust(&p);
    let out = run(&p, &version, &["-c", "import alpha, sys; print(alpha.__version__, sys.base_prefix)"]);
    assert!(out.status.success(), "project behind pyenv: {}", stderr(&out));
    let base = want.parent().unwrap().parent().unwrap();
    assert_eq!(stdout(&out).trim(), format!("1.0 {}", base.display()));
    FAULTS.fetch_add(1, Ordering::SeqCst);
}

// ---- 6. stdout ----

/// `python x.py > out` on a cold key, for both backends: `out` holds only the program's output;
/// the build's header and installer output go to stderr.
#[test]
fn stdout_holds_only_the_programs_output_on_a_cold_key() {
    let _done = Done;
    let mut backends = vec!["pip"];
    if uv().is_some() {
        backends.push("uv");
    } else {
        eprintln!("SKIPPED stdout contract (uv): uv is missing");
    }
    for backend in backends {
        let t = TestEnv::with_backend(backend);
        let p = t.project("proj", &["alpha==1.0", "beta"]);
        t.trust(&p);
        let (st, out, err) = run_to_file(&mut python_x(&t, &p), &t.path().join("out"), Duration::from_secs(120));
        assert!(st.success(), "{backend}: {err}");
        assert_eq!(out, "x 1.0\n", "{backend}: only the program's output");
        assert!(err.contains("cove: building environment"), "{backend}: the build speaks on stderr:\n{err}");
        FAULTS.fetch_add(1, Ordering::SeqCst);
    }
}
