//! The team cache (SPEC §8 `[remote]`, issue 20): two TestEnvs stand for two machines (own
//! HOME, own cache path, same interpreter). A builds and pushes; B pulls — with no installer
//! able to run in B (its `COVE_UV` is a program that leaves a canary and fails) — and B's
//! environment imports, runs its console scripts from B's path and names none of A's paths.
//! Faults (registry gone mid-pull, a corrupted blob, an artifact for another text, a registry
//! that never answers) cost one line and a local build.
//!
//! The OCI tests run Debian's `docker-registry` (distribution 2.8) on 127.0.0.1 with storage in
//! a temp folder; without it they say so loudly and pass (CI installs it: `.ci/run`).

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::*;

const REGISTRY: &str = "/usr/bin/docker-registry";

struct Registry {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Registry {
    fn start() -> Option<Registry> {
        Registry::start_with("")
    }

    /// With `auth` (a YAML `auth:` table, indented by two) in its config.
    fn start_with(auth: &str) -> Option<Registry> {
        if !Path::new(REGISTRY).exists() {
            eprintln!("\n*** SKIPPED: {REGISTRY} is not installed (apt-get install docker-registry) ***\n");
            return None;
        }
        let dir = tempfile::Builder::new().prefix("cove-registry-").tempdir().unwrap();
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let config = dir.path().join("config.yml");
        std::fs::write(
            &config,
            format!(
                "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n{auth}",
                dir.path().join("data").display()
            ),
        )
        .unwrap();
        let out = std::fs::File::create(dir.path().join("access.log")).unwrap();
        let child = Command::new(REGISTRY)
            .arg("serve")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(Stdio::null())
            .spawn()
            .expect("start docker-registry");
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "docker-registry did not start on port {port}");
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(Registry { child, port, dir })
    }

    fn url(&self) -> String {
        format!("oci://127.0.0.1:{}/team/cove", self.port)
    }

    /// The access log's lines (distribution logs each request on stdout).
    fn requests(&self) -> Vec<String> {
        let text = std::fs::read_to_string(self.dir.path().join("access.log")).unwrap_or_default();
        text.lines().map(str::to_string).collect()
    }

    fn blob_gets(&self) -> usize {
        self.requests().iter().filter(|l| l.contains("\"GET /v2/team/cove/blobs/sha256:")).count()
    }

    /// The stored blob files, largest first (the layer before the config).
    fn blob_files(&self) -> Vec<PathBuf> {
        let mut files = Vec::new();
        let root = self.dir.path().join("data/docker/registry/v2/blobs");
        walk(&root, &mut files);
        files.retain(|f| f.file_name().is_some_and(|n| n == "data"));
        files.sort_by_key(|f| std::cmp::Reverse(std::fs::metadata(f).map(|m| m.len()).unwrap_or(0)));
        files
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        self.kill();
    }
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if e.file_type().is_ok_and(|t| t.is_dir()) {
            walk(&p, out);
        } else {
            out.push(p);
        }
    }
}

/// Write the user's config with a `[remote]` table.
fn set_remote(env: &TestEnv, url: &str, push: bool) {
    std::fs::write(&env.config, format!("[remote]\nurl = {url:?}\npush = {push}\ntimeout = \"2s\"\n")).unwrap();
}

/// A project of `deps` in `env`: the same manifest text (so the same key) on every "machine".
fn project(env: &TestEnv, deps: &[&str]) -> PathBuf {
    let dir = env.project("proj", deps);
    env.trust(&dir);
    dir
}

/// In B, an installer is a program that leaves a canary and fails.
fn no_installer(env: &TestEnv) -> (PathBuf, PathBuf) {
    let canary = env.path().join("installer-ran");
    let fake = env.path().join("fake-uv");
    std::fs::write(&fake, format!("#!/bin/sh\necho ran >> {}\nexit 1\n", canary.display())).unwrap();
    std::fs::set_permissions(&fake, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    (fake, canary)
}

fn cove_without_installer(env: &TestEnv, fake: &Path, dir: &Path, args: &[&str]) -> std::process::Output {
    env.cmd(COVE, dir).args(args).env("COVE_BACKEND", "uv").env("COVE_UV", fake).output().unwrap()
}

/// Every file of `dir` (not following links) that contains `needle`.
fn files_naming(dir: &Path, needle: &str) -> Vec<PathBuf> {
    let mut files = Vec::new();
    walk(dir, &mut files);
    files
        .into_iter()
        .filter(|f| std::fs::symlink_metadata(f).is_ok_and(|m| m.is_file()))
        .filter(|f| std::fs::read(f).is_ok_and(|b| b.windows(needle.len()).any(|w| w == needle.as_bytes())))
        .collect()
}

fn env_of(env: &TestEnv, dir: &Path) -> PathBuf {
    PathBuf::from(env.status(dir)["env"].as_str().unwrap())
}

fn origin(env: &TestEnv, dir: &Path) -> String {
    let info: serde_json::Value =
        serde_json::from_slice(&std::fs::read(env_of(env, dir).join("cove-env.json")).unwrap()).unwrap();
    info["origin"].as_str().unwrap_or_default().to_string()
}

/// A builds `deps` and pushes them to `url`.
fn a_pushes(url: &str, deps: &[&str]) -> TestEnv {
    a_pushes_with(TestEnv::new(), url, deps)
}

fn a_pushes_with(a: TestEnv, url: &str, deps: &[&str]) -> TestEnv {
    set_remote(&a, url, false);
    let dir = project(&a, deps);
    assert_ok(&a.cove(&dir, &["sync"]));
    let out = a.cove(&dir, &["push"]);
    assert_ok(&out);
    assert!(stderr(&out).contains("pushed environment"), "{}", stderr(&out));
    let again = a.cove(&dir, &["push"]);
    assert_ok(&again);
    assert!(stderr(&again).contains("already in"), "{}", stderr(&again));
    a
}

/// B pulls what A pushed, with no installer: it imports, its console script runs from B's
/// path, and no file names A's cache.
fn b_pulls(a: &TestEnv, url: &str) -> TestEnv {
    let b = TestEnv::new();
    set_remote(&b, url, false);
    let dir = project(&b, &["alpha==1.0"]);
    let (fake, canary) = no_installer(&b);
    let out =
        cove_without_installer(&b, &fake, &dir, &["run", "python", "-c", "import alpha, sys; print(alpha.__file__)"]);
    assert_ok(&out);
    assert!(!canary.exists(), "no installer runs in B");
    assert!(stderr(&out).contains("pulled environment"), "{}", stderr(&out));
    let env = env_of(&b, &dir);
    assert!(env.starts_with(&b.cache), "{}", env.display());
    assert!(stdout(&out).trim().starts_with(env.to_str().unwrap()), "{}", stdout(&out));
    let script = b.cmd(env.join("bin/alpha-cli"), &dir).output().unwrap();
    assert_ok(&script);
    assert_eq!(stdout(&script).trim(), "alpha-cli 1.0");
    let naming = files_naming(&env, a.cache.to_str().unwrap());
    assert!(naming.is_empty(), "files of B's env name A's cache: {naming:?}");
    let naming = files_naming(&env, "__cove_environment_path__");
    assert!(naming.is_empty(), "placeholder left in: {naming:?}");
    assert!(origin(&b, &dir).starts_with("pulled from "), "{}", origin(&b, &dir));
    let list = b.cove(&dir, &["list", "--json"]);
    assert!(stdout(&list).contains("pulled from"), "{}", stdout(&list));
    // The pip inside works from B's path too.
    let pip = b.cmd(env.join("bin/python"), &dir).args(["-c", "import sys; print(sys.prefix)"]).output().unwrap();
    assert_eq!(stdout(&pip).trim(), env.to_str().unwrap());
    b
}

#[test]
fn a_pushes_to_a_registry_and_b_pulls_without_installing() {
    let Some(reg) = Registry::start() else { return };
    let a = a_pushes(&reg.url(), &["alpha==1.0"]);
    // The layer is zstd frames of whole entries (pip alone fills several), which B's workers
    // unpack side by side.
    let layer = std::fs::read(&reg.blob_files()[0]).unwrap();
    let (mut at, mut frames) = (0, 0);
    while at < layer.len() {
        at += zstd::zstd_safe::find_frame_compressed_size(&layer[at..]).expect("a whole zstd frame");
        frames += 1;
    }
    assert!(frames >= 2, "the layer is {frames} frame(s)");
    b_pulls(&a, &reg.url());
}

#[test]
fn a_folder_remote_works_the_same() {
    let team = tempfile::tempdir().unwrap();
    let url = format!("file://{}", team.path().display());
    let a = a_pushes(&url, &["alpha==1.0"]);
    b_pulls(&a, &url);
}

#[test]
fn an_environment_the_pip_backend_built_is_pulled_the_same() {
    let team = tempfile::tempdir().unwrap();
    let url = format!("file://{}", team.path().display());
    let a = a_pushes_with(TestEnv::with_backend("pip"), &url, &["alpha==1.0"]);
    let b = b_pulls(&a, &url);
    // pip's own scripts name B's environment, and pip runs from there.
    let dir = b.path().join("proj");
    let env = env_of(&b, &dir);
    let pip = b.cmd(env.join("bin/pip"), &dir).args(["--version"]).output().unwrap();
    assert_ok(&pip);
    assert!(stdout(&pip).contains(env.to_str().unwrap()), "{}", stdout(&pip));
}

#[test]
fn push_true_uploads_in_the_background_after_a_build() {
    let team = tempfile::tempdir().unwrap();
    let url = format!("file://{}", team.path().display());
    let a = TestEnv::new();
    set_remote(&a, &url, true);
    let dir = project(&a, &["alpha==1.0"]);
    assert_ok(&a.cove(&dir, &["sync"]));
    let key = a.status(&dir)["key"].as_str().unwrap().to_string();
    let tag = team.path().join("manifests").join(&key);
    let deadline = Instant::now() + Duration::from_secs(30);
    while !tag.exists() {
        assert!(Instant::now() < deadline, "no background push; log: {:?}", std::fs::read_dir(a.cache.join("logs")));
        std::thread::sleep(Duration::from_millis(100));
    }
    b_pulls(&a, &url);
}

/// A proxy to the registry that cuts the connection partway through the layer's download:
/// the registry going away mid-pull.
fn cutting_proxy(to: u16) -> (u16, Arc<AtomicBool>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let cut_seen = Arc::new(AtomicBool::new(false));
    let seen = cut_seen.clone();
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let Ok(server) = TcpStream::connect(("127.0.0.1", to)) else { continue };
            let cut = Arc::new(AtomicBool::new(false));
            let (mut c_read, mut s_write) = (client.try_clone().unwrap(), server.try_clone().unwrap());
            let (mut s_read, mut c_write) = (server, client);
            let cut_up = cut.clone();
            let seen = seen.clone();
            std::thread::spawn(move || {
                let mut buf = [0u8; 8192];
                while let Ok(n) = c_read.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    let text = String::from_utf8_lossy(&buf[..n]);
                    if text.starts_with("GET /v2/team/cove/blobs/") && !cut_up.load(Ordering::SeqCst) {
                        // The config blob is small, the layer not: cut only the second blob.
                        if seen.swap(true, Ordering::SeqCst) {
                            cut_up.store(true, Ordering::SeqCst);
                        }
                    }
                    if s_write.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
            });
            std::thread::spawn(move || {
                let mut buf = [0u8; 512];
                let mut sent_after_cut = 0;
                while let Ok(n) = s_read.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    if cut.load(Ordering::SeqCst) {
                        sent_after_cut += n;
                        if sent_after_cut > 1024 {
                            let _ = c_write.shutdown(std::net::Shutdown::Both);
                            let _ = s_read.shutdown(std::net::Shutdown::Both);
                            break;
                        }
                    }
                    if c_write.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
            });
        }
    });
    (port, cut_seen)
}

fn no_attempts_left(env: &TestEnv) {
    let left: Vec<_> =
        std::fs::read_dir(env.cache.join("tmp")).into_iter().flatten().flatten().map(|e| e.path()).collect();
    assert!(left.is_empty(), "attempt folders left: {left:?}");
}

#[test]
fn a_registry_gone_mid_pull_costs_one_line_and_a_local_build() {
    let Some(mut reg) = Registry::start() else { return };
    let a = a_pushes(&reg.url(), &["alpha==1.0"]);
    let (port, _) = cutting_proxy(reg.port);
    let b = TestEnv::new();
    set_remote(&b, &format!("oci://127.0.0.1:{port}/team/cove"), false);
    let dir = project(&b, &["alpha==1.0"]);
    let out = b.cove(&dir, &["sync"]);
    assert_ok(&out);
    let err = stderr(&out);
    assert!(err.contains("not pulling environment") && err.contains("building it here"), "{err}");
    assert_eq!(err.matches("not pulling").count(), 1, "one line: {err}");
    assert_eq!(origin(&b, &dir), "built");
    no_attempts_left(&b);
    // And with the registry killed outright: the same, at once.
    reg.kill();
    let c = TestEnv::new();
    set_remote(&c, &reg.url(), false);
    let dir = project(&c, &["alpha==1.0"]);
    let started = Instant::now();
    let out = c.cove(&dir, &["sync"]);
    assert_ok(&out);
    assert!(stderr(&out).contains("not pulling environment"), "{}", stderr(&out));
    assert!(started.elapsed() < Duration::from_secs(30));
    assert_eq!(origin(&c, &dir), "built");
    drop(a);
}

#[test]
fn a_registry_that_never_answers_costs_at_most_the_timeout() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for c in listener.incoming().flatten() {
            held.push(c);
        }
    });
    let b = TestEnv::new();
    std::fs::write(&b.config, format!("[remote]\nurl = \"oci://127.0.0.1:{port}/team/cove\"\ntimeout = \"1s\"\n"))
        .unwrap();
    let dir = project(&b, &["alpha==1.0"]);
    let started = Instant::now();
    let out = b.cove(&dir, &["sync"]);
    assert_ok(&out);
    assert!(stderr(&out).contains("not pulling environment"), "{}", stderr(&out));
    let took = started.elapsed();
    // Twice the timeout at most for the remote (connect, then the answer), plus the build.
    assert!(took < Duration::from_secs(15), "took {took:?}");
    assert_eq!(origin(&b, &dir), "built");
}

#[test]
fn a_corrupted_blob_is_refused_by_digest_and_built_here() {
    let Some(reg) = Registry::start() else { return };
    let _a = a_pushes(&reg.url(), &["alpha==1.0"]);
    let layer = reg.blob_files().into_iter().next().expect("a stored blob");
    let mut bytes = std::fs::read(&layer).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    std::fs::write(&layer, bytes).unwrap();
    let b = TestEnv::new();
    set_remote(&b, &reg.url(), false);
    let dir = project(&b, &["alpha==1.0"]);
    let out = b.cove(&dir, &["sync"]);
    assert_ok(&out);
    assert!(stderr(&out).contains("digest"), "{}", stderr(&out));
    assert_eq!(origin(&b, &dir), "built");
    no_attempts_left(&b);
}

/// The layer is unpacked as it downloads: one that unpacks whole but is not the blob its manifest
/// names (another environment's, say) must still be refused by its digest, and nothing of it
/// published.
#[test]
fn a_layer_that_unpacks_but_is_not_the_manifests_is_refused() {
    let team = tempfile::tempdir().unwrap();
    let url = format!("file://{}", team.path().display());
    let one = a_pushes(&url, &["alpha==1.0"]);
    let two = a_pushes(&url, &["alpha==2.0"]);
    let layer_of = |env: &TestEnv| {
        let key = env.status(&env.path().join("proj"))["key"].as_str().unwrap().to_string();
        let m: serde_json::Value =
            serde_json::from_slice(&std::fs::read(team.path().join("manifests").join(key)).unwrap()).unwrap();
        let digest = m["layers"][0]["digest"].as_str().unwrap().to_string();
        team.path().join("blobs/sha256").join(digest.trim_start_matches("sha256:"))
    };
    let (blob_one, blob_two) = (layer_of(&one), layer_of(&two));
    assert_ne!(blob_one, blob_two);
    std::fs::copy(&blob_two, &blob_one).unwrap();
    let b = TestEnv::new();
    set_remote(&b, &url, false);
    let dir = project(&b, &["alpha==1.0"]);
    let out = b.cove(&dir, &["sync"]);
    assert_ok(&out);
    // Its size or its digest gives it away.
    assert!(stderr(&out).contains("not pulling") && stderr(&out).contains("the download"), "{}", stderr(&out));
    assert_eq!(origin(&b, &dir), "built");
    let run = b.cove(&dir, &["run", "alpha-cli"]);
    assert_ok(&run);
    assert_eq!(stdout(&run).trim(), "alpha-cli 1.0", "the environment is alpha 1.0's, built here");
    no_attempts_left(&b);
}

#[test]
fn an_artifact_whose_canonical_text_is_not_the_keys_is_refused() {
    let team = tempfile::tempdir().unwrap();
    let url = format!("file://{}", team.path().display());
    let a = a_pushes(&url, &["alpha==1.0"]);
    // Another environment's artifact put under this key's tag (say, by a bad push).
    let dir = a.path().join("proj");
    let key = a.status(&dir)["key"].as_str().unwrap().to_string();
    let tag = team.path().join("manifests").join(&key);
    let text = std::fs::read_to_string(&tag).unwrap();
    let m: serde_json::Value = serde_json::from_str(&text).unwrap();
    let canonical = m["annotations"]["dev.cove.canonical"].as_str().unwrap().to_string();
    let forged = text.replace(
        &serde_json::to_string(&canonical).unwrap(),
        &serde_json::to_string(&canonical.replace("alpha==1.0", "alpha==2.0")).unwrap(),
    );
    assert_ne!(forged, text);
    std::fs::write(&tag, forged).unwrap();
    let b = TestEnv::new();
    set_remote(&b, &url, false);
    let dir = project(&b, &["alpha==1.0"]);
    let out = b.cove(&dir, &["sync"]);
    assert_ok(&out);
    assert!(stderr(&out).contains("canonical text is not this key's"), "{}", stderr(&out));
    assert_eq!(origin(&b, &dir), "built");
}

#[test]
fn b_killed_while_pulling_leaves_nothing_half_made() {
    let team = tempfile::tempdir().unwrap();
    let url = format!("file://{}", team.path().display());
    let _a = a_pushes(&url, &["alpha==1.0"]);
    let b = TestEnv::new();
    set_remote(&b, &url, false);
    let dir = project(&b, &["alpha==1.0"]);
    let (fake, canary) = no_installer(&b);
    for delay in [0u64, 5, 15, 30, 60, 100] {
        let mut child = b
            .cmd(COVE, &dir)
            .args(["sync"])
            .env("COVE_BACKEND", "uv")
            .env("COVE_UV", &fake)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay));
        // SAFETY: a child of this test.
        unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
        let _ = child.wait();
        let out =
            cove_without_installer(&b, &fake, &dir, &["run", "python", "-c", "import alpha; print(alpha.__version__)"]);
        assert_ok(&out);
        assert_eq!(stdout(&out).trim(), "1.0", "after a kill at {delay} ms");
        assert!(!canary.exists());
        std::fs::remove_dir_all(b.cache.join("envs")).unwrap();
    }
}

#[test]
fn sixteen_processes_on_a_cold_key_pull_once() {
    let Some(reg) = Registry::start() else { return };
    let _a = a_pushes(&reg.url(), &["alpha==1.0"]);
    let before = reg.blob_gets();
    let b = TestEnv::new();
    set_remote(&b, &reg.url(), false);
    let dir = project(&b, &["alpha==1.0"]);
    b.shims_on();
    let (fake, canary) = no_installer(&b);
    let children: Vec<Child> = (0..16)
        .map(|_| {
            b.cmd(b.shims().join("python"), &dir)
                .args(["-c", "import alpha; print(alpha.__version__)"])
                .env("COVE_BACKEND", "uv")
                .env("COVE_UV", &fake)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert_ok(&out);
        assert_eq!(stdout(&out).trim(), "1.0");
    }
    assert!(!canary.exists());
    // One pull: the config blob and the layer, once each.
    assert_eq!(reg.blob_gets() - before, 2, "{:#?}", reg.requests());
}

#[test]
fn a_manifest_naming_a_remote_is_ignored_with_a_note() {
    let team = tempfile::tempdir().unwrap();
    let url = format!("file://{}", team.path().display());
    let _a = a_pushes(&url, &["alpha==1.0"]);
    // B has no remote of its own; its manifest names A's team cache.
    let b = TestEnv::new();
    let dir = b.project("proj", &["alpha==1.0"]);
    let text = std::fs::read_to_string(dir.join("cove.toml")).unwrap();
    std::fs::write(dir.join("cove.toml"), format!("{text}\n[remote]\nurl = {url:?}\n")).unwrap();
    b.trust(&dir);
    let out = b.cove(&dir, &["sync"]);
    assert_ok(&out);
    assert!(stderr(&out).contains("`remote` setting is ignored"), "{}", stderr(&out));
    assert!(!stderr(&out).contains("pulled"), "{}", stderr(&out));
    assert_eq!(origin(&b, &dir), "built");
    let status = b.cove(&dir, &["status"]);
    assert!(stdout(&status).contains("is ignored") || stderr(&status).contains("is ignored"));
}

/// `team:secret`, as `htpasswd -B` writes it, and as `docker login` saves it.
const HTPASSWD: &str = "team:$2b$05$abcdefghijklmnopqrstuuOQiyCxlgf/oeuTqixKmWdcYUh4Hjl0a\n";
const DOCKER_AUTH: &str = "dGVhbTpzZWNyZXQ=";

fn docker_login(env: &TestEnv, port: u16) {
    std::fs::create_dir_all(env.home.join(".docker")).unwrap();
    std::fs::write(
        env.home.join(".docker/config.json"),
        format!("{{\"auths\": {{\"127.0.0.1:{port}\": {{\"auth\": \"{DOCKER_AUTH}\"}}}}}}"),
    )
    .unwrap();
}

#[test]
fn a_registry_that_asks_for_a_login_gets_the_docker_credentials() {
    let passwords = tempfile::tempdir().unwrap();
    let file = passwords.path().join("htpasswd");
    std::fs::write(&file, HTPASSWD).unwrap();
    let Some(reg) =
        Registry::start_with(&format!("auth:\n  htpasswd:\n    realm: cove-test\n    path: {}\n", file.display()))
    else {
        return;
    };
    // Without a login: push fails saying so, a pull falls back to a local build.
    let stranger = TestEnv::new();
    set_remote(&stranger, &reg.url(), false);
    let dir = project(&stranger, &["alpha==1.0"]);
    let out = stranger.cove(&dir, &["sync"]);
    assert_ok(&out);
    assert!(stderr(&out).contains("not logged in"), "{}", stderr(&out));
    let out = stranger.cove(&dir, &["push"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("not logged in"), "{}", stderr(&out));
    let doctor = stranger.cove(&dir, &["doctor"]);
    assert!(stdout(&doctor).contains("problem  remote"), "{}", stdout(&doctor));
    // With `docker login`'s credentials: A pushes, B pulls.
    let a = TestEnv::new();
    docker_login(&a, reg.port);
    let a = a_pushes_with(a, &reg.url(), &["alpha==1.0"]);
    let b = TestEnv::new();
    docker_login(&b, reg.port);
    set_remote(&b, &reg.url(), false);
    let dir = project(&b, &["alpha==1.0"]);
    let (fake, canary) = no_installer(&b);
    let out = cove_without_installer(&b, &fake, &dir, &["sync"]);
    assert_ok(&out);
    assert!(stderr(&out).contains("pulled environment"), "{}", stderr(&out));
    assert!(!canary.exists());
    drop(a);
}

#[test]
fn doctor_checks_the_remote() {
    let team = tempfile::tempdir().unwrap();
    let b = TestEnv::new();
    set_remote(&b, &format!("file://{}", team.path().display()), true);
    let out = b.cove(b.path(), &["doctor"]);
    assert!(stdout(&out).contains("ok       remote"), "{}", stdout(&out));
    set_remote(&b, &format!("file://{}/missing", team.path().display()), false);
    let out = b.cove(b.path(), &["doctor"]);
    assert!(stdout(&out).contains("problem  remote"), "{}", stdout(&out));
    if let Some(reg) = Registry::start() {
        set_remote(&b, &reg.url(), true);
        let out = b.cove(b.path(), &["doctor"]);
        assert!(stdout(&out).contains("push allowed"), "{}", stdout(&out));
    }
}
