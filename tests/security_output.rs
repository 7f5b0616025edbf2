//! Security issue 16, findings 5 and 9: what a checkout holds cannot spoof what cove shows, nor
//! crash it.
//!
//! 5: an escape sequence in a requirement (a marker's string) or in a folder name would be
//! printed raw, so `ESC[1A ESC[2K` could erase a URL requirement from the review the user
//! answers `y` to. Every such text is shown escaped (`\u{1b}`), on stdout and stderr alike.
//! 9: a marker with 10,000 nested parentheses overflowed the parser's stack: a segfault in
//! `python`, `cove status` and the shell hook. It is an error naming file, line and column.

mod common;
use common::*;

use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::Output;

/// A folder name that draws: erase the line, a newline, and a right-to-left override.
const FOLDER: &str = "ev\x1b[2Kil\nname\u{202e}";
const FOLDER_SHOWN: &str = "ev\\u{1b}[2Kil\\nname\\u{202e}";
/// A marker value that moves up a line, erases it, opens a hyperlink, and a C1 CSI.
const MARKER_TOML: &str = r"\u001B[1A\u001B[2K\u001B]8;;http://evil.example\u0007x\u009B2K\u202E";
const MARKER_SHOWN: &str = r"\u{1b}[1A\u{1b}[2K\u{1b}]8;;http://evil.example\u{7}x\u{9b}2K\u{202e}";

/// No byte or character that acts on a terminal.
#[track_caller]
fn assert_inert(bytes: &[u8], what: &str) {
    let text = String::from_utf8_lossy(bytes);
    for bad in ['\x1b', '\0', '\r', '\x07', '\u{9b}', '\u{202e}'] {
        assert!(!text.contains(bad), "{what}: a raw {bad:?} in {text:?}");
    }
}

#[track_caller]
fn assert_output_inert(out: &Output, what: &str) {
    assert_inert(&out.stdout, &format!("{what} (stdout)"));
    assert_inert(&out.stderr, &format!("{what} (stderr)"));
}

fn write_toml(dir: &Path, requirement_toml: &str) {
    let text = format!(
        "dependencies = [\"{requirement_toml}\"]\n\n[index]\nfind-links = [{:?}]\nno-index = true\n",
        wheelhouse().display().to_string()
    );
    std::fs::write(dir.join("cove.toml"), text).unwrap();
}

fn hostile_folder(t: &TestEnv) -> PathBuf {
    let dir = t.path().join(FOLDER);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn hostile_requirement() -> String {
    format!("alpha ; os_name != '{MARKER_TOML}'")
}

#[test]
fn status_shows_a_hostile_requirement_and_folder_escaped() {
    let t = TestEnv::new();
    let p = hostile_folder(&t);
    write_toml(&p, &hostile_requirement());
    let out = t.cove(&p, &["status"]);
    assert_ok(&out);
    assert_output_inert(&out, "cove status");
    let text = stdout(&out);
    assert!(text.contains(&format!("project:   {}/{FOLDER_SHOWN}\n", t.path().display())), "{text}");
    assert!(text.contains(&format!("alpha ; os_name != '{MARKER_SHOWN}'")), "{text}");

    // JSON: the same strings to a reader, with every control character a `\u` escape.
    let out = t.cove(&p, &["status", "--json"]);
    assert_ok(&out);
    assert_output_inert(&out, "cove status --json");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["project"], t.path().join(FOLDER).display().to_string());
    let req = v["requirements"][0].as_str().unwrap();
    assert!(req.contains("\x1b[1A\x1b[2K") && req.contains('\u{9b}') && req.contains('\u{202e}'), "{req:?}");
}

#[test]
fn the_trust_refusal_shows_the_changed_requirement_escaped() {
    let t = TestEnv::new();
    let p = hostile_folder(&t);
    write_toml(&p, "alpha");
    t.trust(&p);
    write_toml(&p, &hostile_requirement());
    for out in [t.shim("python", &p, &["-c", "1"]), t.cove(&p, &["sync"])] {
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        assert_output_inert(&out, "the refusal");
        let err = stderr(&out);
        assert!(
            err.starts_with(&format!("cove: error: {}/{FOLDER_SHOWN}/cove.toml changed", t.path().display())),
            "{err}"
        );
        assert!(err.contains(&format!("os_name != '{MARKER_SHOWN}'")), "{err}");
        assert_eq!(err.lines().count(), 2, "one error line and one hint: {err}");
    }
    assert!(t.envs().is_empty());
}

#[test]
fn the_trust_prompt_on_a_terminal_shows_every_requirement_escaped() {
    if !have_script() {
        return;
    }
    let t = TestEnv::new();
    let p = hostile_folder(&t);
    write_toml(&p, &format!("{}\", \"beta @ https://evil.example/beta-1.0-py3-none-any.whl", hostile_requirement()));
    t.shims_on();
    let py = t.shims().join("python");
    // Answer `n` on the terminal; no colour, so any escape byte on it would be the manifest's.
    let mut c = t.cmd("sh", &p);
    let inner = format!("'{}' -c 1", py.display());
    c.args(["-c", "printf 'n\\n' | script -qec \"$0\" /dev/null", &inner]).env("TERM", "dumb").env("NO_COLOR", "1");
    let out = c.output().unwrap();
    let screen = String::from_utf8_lossy(&out.stdout).replace("\r\n", "\n");
    assert_inert(screen.as_bytes(), "the prompt");
    assert!(screen.contains("Trust and build? [y/N]"), "{screen:?}");
    assert!(
        screen.contains(&format!(
            "cove: it asks for: alpha ; os_name != '{MARKER_SHOWN}', beta @ https://evil.example/beta-1.0-py3-none-any.whl\n"
        )),
        "{screen:?}"
    );
    assert!(screen.contains("not trusted:"), "declined: {screen:?}");
    assert!(t.envs().is_empty());
}

fn hook_env(t: &TestEnv, dir: &Path) -> Output {
    let mut cmd = t.cmd(COVE, dir);
    cmd.env("COVE_PYTHON", system_python()).env("COVE_PREBUILD", "0").args(["hook-env", "bash"]);
    cmd.output().unwrap()
}

#[test]
fn the_hook_says_untrusted_escaped_and_its_code_is_inert_and_exact() {
    let t = TestEnv::new();
    let p = hostile_folder(&t);
    write_toml(&p, &hostile_requirement());
    let out = hook_env(&t, &p);
    assert_ok(&out);
    assert_output_inert(&out, "hook-env, untrusted");
    let err = stderr(&out);
    assert!(err.starts_with(&format!("cove: {}/{FOLDER_SHOWN}/cove.toml is not trusted", t.path().display())), "{err}");
    assert_eq!(err.lines().count(), 1, "one line, the hint in it: {err}");

    // Built and active: the code sets COVE_PROJECT to the folder's exact bytes, with no raw
    // control byte in the code itself.
    write_toml(&p, "alpha");
    t.trust(&p);
    let mut sync = t.cmd(COVE, &p);
    assert_ok(&sync.env("COVE_PYTHON", system_python()).arg("sync").output().unwrap());
    let out = hook_env(&t, &p);
    assert_ok(&out);
    assert_output_inert(&out, "hook-env, active");
    assert!(stdout(&out).contains("export COVE_PROJECT=$'"), "{}", stdout(&out));
    let mut bash = t.cmd("bash", &p);
    bash.env("COVE_PYTHON", system_python()).env("COVE_PREBUILD", "0").args([
        "-c",
        "eval \"$(\"$0\" hook-env bash)\" && printf '%s' \"$COVE_PROJECT\"",
        COVE,
    ]);
    let shown = bash.output().unwrap();
    assert_ok(&shown);
    assert_eq!(shown.stdout, p.as_os_str().as_bytes(), "the value comes back byte for byte");
}

#[test]
fn list_shows_a_hostile_project_folder_escaped() {
    let t = TestEnv::new();
    let p = hostile_folder(&t);
    write_toml(&p, "alpha");
    t.trust(&p);
    assert_ok(&t.shim("python", &p, &["-c", "1"]));
    let out = t.cove(&p, &["list"]);
    assert_ok(&out);
    assert_output_inert(&out, "cove list");
    assert!(stdout(&out).contains(&format!("{}/{FOLDER_SHOWN}", t.path().display())), "{}", stdout(&out));
    let out = t.cove(&p, &["list", "--json"]);
    assert_ok(&out);
    assert_output_inert(&out, "cove list --json");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v[0]["projects"][0], p.display().to_string());
}

// ---------------------------------------------------------------------------------------------
// Finding 9: hostile nesting is an error, not a crash.

fn deep_marker() -> String {
    format!("alpha ; {}os_name == 'nt'{}", "(".repeat(10_000), ")".repeat(10_000))
}

/// `python -c 1`, `cove status` and `cove hook-env bash` in `p`: an error at `at`, no signal.
fn assert_refused_everywhere(t: &TestEnv, p: &Path, at: &str) {
    for (what, out) in [
        ("python", t.shim("python", p, &["-c", "1"])),
        ("status", t.cove(p, &["status"])),
        ("hook-env", hook_env(t, p)),
    ] {
        assert_eq!(out.status.signal(), None, "{what}: killed by a signal");
        // The hook never fails the prompt: it says the error once and exits 0.
        let code = if what == "hook-env" { 0 } else { 1 };
        assert_eq!(out.status.code(), Some(code), "{what}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(err.starts_with(&format!("cove: error: {}/{at}: invalid requirement", p.display())), "{what}: {err}");
        assert!(err.contains("the marker nests parentheses more than 32 deep"), "{what}: {err}");
        assert!(err.len() < 1000, "{what}: the requirement is cut: {err}");
    }
}

#[test]
fn deeply_nested_markers_in_cove_toml_are_an_error_with_its_position() {
    let t = TestEnv::new();
    let p = t.path().join("deep");
    std::fs::create_dir_all(&p).unwrap();
    write_toml(&p, &deep_marker());
    assert_refused_everywhere(&t, &p, "cove.toml:1:17");
}

#[test]
fn deeply_nested_markers_in_requirements_txt_are_an_error_with_its_position() {
    let t = TestEnv::new();
    let p = t.path().join("deep");
    std::fs::create_dir_all(&p).unwrap();
    std::fs::write(p.join("requirements.txt"), format!("beta\n{}\n", deep_marker())).unwrap();
    // Line 2; the column of the 33rd parenthesis.
    assert_refused_everywhere(&t, &p, "requirements.txt:2:41");
}

#[test]
fn a_chain_of_includes_is_an_error_not_a_crash() {
    let t = TestEnv::new();
    let p = t.path().join("chain");
    std::fs::create_dir_all(&p).unwrap();
    for i in 0..20_000 {
        std::fs::write(p.join(format!("r{i}.txt")), format!("-r r{}.txt\n", i + 1)).unwrap();
    }
    std::fs::write(p.join("r20000.txt"), "alpha\n").unwrap();
    std::fs::write(p.join("requirements.txt"), "-r r0.txt\n").unwrap();
    let out = t.cove(&p, &["status"]);
    assert_eq!(out.status.signal(), None, "killed by a signal");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("r30.txt:1:4: requirements files include each other more than 32 deep"),
        "{}",
        stderr(&out)
    );
}
