//! Replace the process with the real program (exec, not spawn: signals and the exit status are
//! the program's own).

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The environment variable that counts nested shim pass-throughs (recursion guard).
pub const DEPTH_VAR: &str = "__COVE_SHIM_DEPTH";

/// The folders a run uses: the venv it runs (`VIRTUAL_ENV`) and, for a project layer, the
/// shared environment under it, whose `bin` comes right after the layer's on PATH.
#[derive(Debug, Clone, Copy)]
pub struct Venv<'a> {
    pub dir: &'a Path,
    pub under: Option<&'a Path>,
}

impl<'a> Venv<'a> {
    /// The venv of the environment at `env`, or of the project's layer over it.
    pub fn of(env: &'a Path, layer: Option<&'a Path>) -> Venv<'a> {
        match layer {
            Some(layer) => Venv { dir: layer, under: Some(env) },
            None => Venv { dir: env, under: None },
        }
    }

    /// `name` from the layer's `bin`, else the shared environment's.
    pub fn find(&self, name: &str) -> Option<PathBuf> {
        std::iter::once(self.dir)
            .chain(self.under)
            .map(|d| d.join("bin").join(name))
            .find(|p| crate::plan::interpreter::is_executable(p))
    }

    fn path_var(&self) -> OsString {
        let path = std::env::var_os("PATH").unwrap_or_default();
        let first: Vec<PathBuf> = std::iter::once(self.dir).chain(self.under).map(|d| d.join("bin")).collect();
        let rest = std::env::split_paths(&path).filter(|d| !first.contains(d)).collect::<Vec<_>>();
        std::env::join_paths(first.iter().cloned().chain(rest)).unwrap_or(path)
    }

    /// What running in this venv changes in the environment: `VIRTUAL_ENV` and `PATH` set,
    /// `PYTHONHOME` and the shim depth removed.
    fn env(&self) -> Env {
        Env {
            set: vec![("VIRTUAL_ENV", self.dir.as_os_str().to_owned()), ("PATH", self.path_var())],
            remove: &["PYTHONHOME", DEPTH_VAR],
        }
    }
}

/// Changes to the inherited environment.
struct Env {
    set: Vec<(&'static str, OsString)>,
    remove: &'static [&'static str],
}

/// Run `program` from `venv` as if it were activated. argv[0] is the program's own path:
/// CPython finds its venv (`pyvenv.cfg`) from argv[0], not from the shim's path.
pub fn in_env(venv: Venv, program: &Path, args: &[OsString]) -> Result<std::convert::Infallible> {
    Err(replace(program, args, &venv.env()))
}

/// Run `program` (found on PATH after the shims), with the folders where the name is cove (the
/// shims folder and its aliases, see `Finder::split_path`) taken off PATH.
pub fn pass_through(program: &Path, args: &[OsString], drop: &[PathBuf]) -> Result<std::convert::Infallible> {
    let depth: u32 = std::env::var(DEPTH_VAR).ok().and_then(|d| d.parse().ok()).unwrap_or(0);
    let mut env = Env { set: vec![(DEPTH_VAR, (depth + 1).to_string().into())], remove: &[] };
    let path = std::env::var_os("PATH").unwrap_or_default();
    let kept: Vec<PathBuf> = std::env::split_paths(&path).filter(|d| !drop.contains(d)).collect();
    if let Ok(joined) = std::env::join_paths(kept) {
        env.set.push(("PATH", joined));
    }
    Err(replace(program, args, &env))
}

/// Run any command inside `venv` (`cove run`): a name with a `/` as it is, else the first of
/// that name on the environment's PATH (its `bin` first, then the user's PATH), as a shell would.
/// `manifest` names the project for the "not found" hint.
pub fn command_in_env(venv: Venv, args: &[OsString], manifest: &Path) -> Result<std::convert::Infallible> {
    let name = &args[0];
    let env = venv.env();
    let program = if name.as_encoded_bytes().contains(&b'/') {
        PathBuf::from(name)
    } else {
        let path = env.set.iter().find(|(k, _)| *k == "PATH").map(|(_, v)| v.clone()).unwrap_or_default();
        let found =
            std::env::split_paths(&path).map(|d| d.join(name)).find(|p| crate::plan::interpreter::is_executable(p));
        found.ok_or_else(|| Error::CommandNotFound {
            name: name.to_string_lossy().into_owned(),
            manifest: Some(manifest.to_path_buf()),
        })?
    };
    Err(replace(&program, &args[1..], &env))
}

unsafe extern "C" {
    static environ: *const *const libc::c_char;
}

/// Replace this process with `program` (argv[0] its path), the environment inherited with
/// `env`'s changes. `execve` with the inherited variables passed as they are: no copy of the
/// environment is made (std's `Command` builds a sorted map of it first).
fn replace(program: &Path, args: &[OsString], env: &Env) -> Error {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let cstring = |b: &[u8]| CString::new(b).unwrap_or_default();
    let prog = cstring(program.as_os_str().as_bytes());
    let argv_owned: Vec<CString> = args.iter().map(|a| cstring(a.as_bytes())).collect();
    let mut argv: Vec<*const libc::c_char> = Vec::with_capacity(args.len() + 2);
    argv.push(prog.as_ptr());
    argv.extend(argv_owned.iter().map(|a| a.as_ptr()));
    argv.push(std::ptr::null());

    let set_owned: Vec<CString> =
        env.set.iter().map(|(k, v)| cstring(&[k.as_bytes(), b"=", v.as_bytes()].concat())).collect();
    let mut envp: Vec<*const libc::c_char> = Vec::with_capacity(64);
    // SAFETY: `environ` is the process's NULL-terminated array of C strings; cove is single
    // threaded here and nothing changes it while it is read.
    unsafe {
        let mut p = environ;
        while !p.is_null() && !(*p).is_null() {
            let entry = std::ffi::CStr::from_ptr(*p).to_bytes();
            let name = entry.split(|&b| b == b'=').next().unwrap_or_default();
            let changed = |n: &&str| n.as_bytes() == name;
            if !env.remove.iter().any(changed) && !env.set.iter().map(|(k, _)| k).any(changed) {
                envp.push(*p);
            }
            p = p.add(1);
        }
    }
    envp.extend(set_owned.iter().map(|e| e.as_ptr()));
    envp.push(std::ptr::null());
    // SAFETY: every pointer is to a NUL-terminated string that outlives the call, and both
    // arrays end with NULL. SIGPIPE goes back to its default, as the program expects.
    let source = unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        libc::execve(prog.as_ptr(), argv.as_ptr(), envp.as_ptr());
        let error = std::io::Error::last_os_error();
        if error.raw_os_error() == Some(libc::ENOEXEC) {
            // A script with no `#!` line: the shell runs it, as `execvp` would.
            let sh = c"/bin/sh";
            let mut sh_argv = vec![sh.as_ptr()];
            sh_argv.extend_from_slice(&argv);
            libc::execve(sh.as_ptr(), sh_argv.as_ptr(), envp.as_ptr());
        }
        error
    };
    if source.kind() == std::io::ErrorKind::NotFound {
        return Error::NotFound { name: program.display().to_string() };
    }
    Error::Spawn { program: program.to_path_buf(), source }
}
