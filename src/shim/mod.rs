//! The shim: cove run as `python`, `python3`, `pip`, `pip3` or a console script (SPEC §4).
//!
//! It decides, then acts: the name it runs as is parsed once ([`Tool`]), [`decide`] works out
//! what to hand over to (a [`Launch`]: the program, the venv it runs in or the PATH it passes
//! through with, the arguments), building what is missing on the way, and [`run`] execs it.
//!
//! Warm path: settings → project → the remembered plan (a stat per input; see `memo`) → trust
//! (a stat) → ready (a stat) → exec. No process is spawned, and once the environment is ready
//! nothing is written but the plan memo, once, when a plan had to be made again.

pub mod exec;
pub mod links;
pub mod pip_args;

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::build::Options;
use crate::error::{Error, Result};
use crate::plan::Brief;
use crate::plan::interpreter::Finder;
use crate::plan::project::{Kind, Project};
use crate::settings::{Flags, Settings};
use crate::shim::exec::Venv;

/// How deep pass-throughs may nest before cove calls it a loop.
const MAX_DEPTH: u32 = 8;

/// What the shim runs as, from its file name. Each keeps the name: it is what runs from the
/// environment's `bin` (`python3` stays `python3`) or is looked for on PATH.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tool<'a> {
    /// `python` or `python3`.
    Python(&'a str),
    /// `pip` or `pip3`: installing and uninstalling edit the manifest (see `pip`).
    Pip(&'a str),
    /// Any other name: a console script of the project's environment.
    Script(&'a str),
}

impl<'a> Tool<'a> {
    fn parse(name: &'a str) -> Tool<'a> {
        match name {
            "python" | "python3" => Tool::Python(name),
            "pip" | "pip3" => Tool::Pip(name),
            _ => Tool::Script(name),
        }
    }

    fn name(self) -> &'a str {
        match self {
            Tool::Python(name) | Tool::Pip(name) | Tool::Script(name) => name,
        }
    }
}

/// What the shim hands over to.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Launch {
    /// `program` run in a venv as if activated (see `exec::in_env`): `dir` is the venv, `under`
    /// the shared environment beneath a project's layer.
    InEnv { program: PathBuf, dir: PathBuf, under: Option<PathBuf>, args: Vec<OsString> },
    /// `program` found on PATH after cove, run with `drop` (the folders where the name is cove)
    /// taken off PATH.
    PassThrough { program: PathBuf, drop: Vec<PathBuf>, args: Vec<OsString> },
}

impl Launch {
    fn in_env(venv: Venv, program: PathBuf, args: Vec<OsString>) -> Launch {
        Launch::InEnv { program, dir: venv.dir.to_path_buf(), under: venv.under.map(Path::to_path_buf), args }
    }

    /// `name` from the venv's own `bin` (`python`, `pip`).
    fn from_bin(venv: Venv, name: &str, args: Vec<OsString>) -> Launch {
        Launch::in_env(venv, venv.dir.join("bin").join(name), args)
    }

    /// Replace the process with it.
    fn exec(self) -> Result<std::convert::Infallible> {
        match self {
            Launch::InEnv { program, dir, under, args } => {
                crate::shim::exec::in_env(Venv { dir: &dir, under: under.as_deref() }, &program, &args)
            }
            Launch::PassThrough { program, drop, args } => crate::shim::exec::pass_through(&program, &args, &drop),
        }
    }
}

/// Run the shim `name`; returns only when there is nothing to exec (or on error).
pub fn run(name: &str, args: Vec<OsString>) -> Result<u8> {
    let depth: u32 = std::env::var(crate::shim::exec::DEPTH_VAR).ok().and_then(|d| d.parse().ok()).unwrap_or(0);
    if depth >= MAX_DEPTH {
        return Err(Error::Recursion { name: name.to_string() });
    }
    let settings = Settings::load(&Flags::default())?;
    let finder = Finder::new(&settings.cache_dir, settings.shims_dir());
    match decide(Tool::parse(name), args, &settings, &finder)? {
        Some(launch) => match launch.exec()? {},
        None => Ok(0),
    }
}

/// What `tool` with `args` runs from the current folder, after building what is missing (and,
/// for `pip install`/`uninstall`, editing the manifest): `None` when that edit was all there was
/// to do. Nothing is exec'd here.
fn decide(tool: Tool, args: Vec<OsString>, settings: &Settings, finder: &Finder) -> Result<Option<Launch>> {
    let script = if matches!(tool, Tool::Python(_)) { crate::manifest::script::from_args(&args) } else { None };
    let project = if script.is_some() { script } else { crate::plan::resolve::current_project()? };
    let Some(project) = project else { return pass_through(finder, tool.name(), args).map(Some) };
    match tool {
        Tool::Script(name) => console_script(project, settings, finder, name, args).map(Some),
        Tool::Pip(name) => match pip_change(&args)? {
            Some(change) => {
                crate::change::apply(settings, &project, change, &Default::default())?;
                Ok(None)
            }
            None => from_env(project, settings, finder, name, args).map(Some),
        },
        Tool::Python(name) => from_env(project, settings, finder, name, args).map(Some),
    }
}

/// The manifest edit `pip args` asks for, if any.
fn pip_change(args: &[OsString]) -> Result<Option<crate::change::Change>> {
    use crate::change::Change;
    use crate::shim::pip_args::Action;
    let cwd = std::env::current_dir().unwrap_or_default();
    Ok(match crate::shim::pip_args::classify(args, &cwd)? {
        Action::Read => None,
        Action::Install { reqs, upgrade } => Some(Change::Install { reqs, upgrade }),
        Action::Uninstall(names) => Some(Change::Uninstall(names)),
    })
}

/// `name` (`python`, `pip`) from the project's environment: the remembered plan's when it is
/// trusted and ready (the warm path), else the plan's, built first (asking for trust on a
/// terminal).
fn from_env(project: Project, settings: &Settings, finder: &Finder, name: &str, args: Vec<OsString>) -> Result<Launch> {
    if let Some(brief) = crate::build::reuse_remembered(&project, settings)? {
        return Ok(Launch::from_bin(brief.venv(), name, args));
    }
    let plan = crate::plan::resolve::plan_to_build(project, settings, finder, true)?;
    crate::build::ensure(&plan, settings, Options { prompt: true, ..Default::default() })?;
    Ok(Launch::from_bin(plan.venv(), name, args))
}

/// A console-script shim: the project's environment has it → run it (building what is missing
/// first, when the manifest is trusted and cove knows the environment provides `name`); else
/// the next one of that name on PATH; else "command not found" (exit 127), or the trust error
/// when trusting would have given it. A system command's name (a link made before cove refused
/// them) passes through at once, and a name cove does not know the environment provides never
/// starts a build: `ls` in a project is never a build that fails with the installer's error.
fn console_script(
    project: Project,
    settings: &Settings,
    finder: &Finder,
    name: &str,
    args: Vec<OsString>,
) -> Result<Launch> {
    if crate::shim::links::shadows_system(name) {
        return pass_through(finder, name, args);
    }
    let manifest = project.manifest.clone();
    let mut untrusted = false;
    let mut not_built = false;
    let brief = if project.kind == Kind::Script { None } else { Some(brief(&project, settings, finder)) };
    match brief {
        Some(Ok(brief)) if crate::plan::trust::is_trusted_at(&brief.project.manifest, &brief.digest, settings) => {
            if provides(&brief, settings, name) {
                let ready = if crate::build::reuse(&brief, settings)? {
                    brief
                } else {
                    let plan = crate::plan::resolve::plan(project.clone(), settings, finder)?;
                    crate::build::ensure(&plan, settings, Options::default())?;
                    plan.brief()
                };
                if let Some(program) = ready.venv().find(name) {
                    return Ok(Launch::in_env(ready.venv(), program, args));
                }
            } else {
                not_built = !is_built(&brief, settings);
            }
        }
        Some(Ok(_)) => untrusted = true,
        Some(Err(e @ Error::UnsafeFolder { .. })) => return Err(e),
        Some(Err(_)) | None => {}
    }
    if finder.path_candidates(name).next().is_none() {
        if untrusted {
            let plan = crate::plan::resolve::plan(project, settings, finder)?;
            crate::plan::trust::require(&plan.manifest, settings, false)?;
        }
        if not_built {
            return Err(Error::CommandNotBuilt { name: name.to_string(), manifest });
        }
        return Err(Error::CommandNotFound { name: name.to_string(), manifest: Some(manifest) });
    }
    pass_through(finder, name, args)
}

/// The plan for `project` in brief: the remembered one, else made (and remembered).
fn brief(project: &Project, settings: &Settings, finder: &Finder) -> Result<Brief> {
    if let Some(brief) = crate::plan::resolve::remembered(project, settings)? {
        return Ok(brief);
    }
    crate::plan::resolve::plan(project.clone(), settings, finder).map(|plan| plan.brief())
}

/// Whether cove knows the plan's environment provides `name`: its environment (or layer) has
/// it, or the environment the project last used had it (its manifest changed since). With
/// neither built, cove does not know, and builds nothing for it.
fn provides(brief: &Brief, settings: &Settings, name: &str) -> bool {
    if brief.venv().find(name).is_some() {
        return true;
    }
    let cache = crate::cache::Cache::new(&settings.cache_dir);
    let user = if brief.project.kind == Kind::Script { &brief.project.manifest } else { &brief.project.dir };
    crate::cache::usage::last_key(&cache, user).is_some_and(|key| {
        crate::plan::interpreter::is_executable(
            &cache.entry(crate::cache::Kind::Env, &key).dir().join("bin").join(name),
        )
    })
}

/// The plan's environment, and its layer when it has one, are ready.
fn is_built(brief: &Brief, settings: &Settings) -> bool {
    crate::cache::Cache::new(&settings.cache_dir).is_usable(&brief.key)
        && brief.layer_dir.as_ref().is_none_or(|l| crate::cache::ready_at(l))
}

fn pass_through(finder: &Finder, name: &str, args: Vec<OsString>) -> Result<Launch> {
    let (found, cove_dirs) = finder.split_path(name);
    pass_through_to(name, found, cove_dirs, &finder.shims_dir, args)
}

/// The first of `found` (the programs named `name` on PATH that are not cove), with the folders
/// where `name` is cove and the shims folder taken off PATH; when there is none, the error a
/// shell would give, or for `python`/`pip` the one that says cove found no real one.
fn pass_through_to(
    name: &str,
    found: Vec<PathBuf>,
    mut cove_dirs: Vec<PathBuf>,
    shims: &Path,
    args: Vec<OsString>,
) -> Result<Launch> {
    cove_dirs.push(shims.to_path_buf());
    match found.into_iter().next() {
        Some(program) => Ok(Launch::PassThrough { program, drop: cove_dirs, args }),
        None if crate::shim::links::CORE.contains(&name) => Err(Error::NotFound { name: name.to_string() }),
        None => Err(Error::CommandNotFound { name: name.to_string(), manifest: None }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<OsString> {
        a.iter().map(OsString::from).collect()
    }

    #[test]
    fn the_name_is_parsed_once_and_kept() {
        assert_eq!(Tool::parse("python"), Tool::Python("python"));
        assert_eq!(Tool::parse("python3"), Tool::Python("python3"));
        assert_eq!(Tool::parse("pip"), Tool::Pip("pip"));
        assert_eq!(Tool::parse("pip3"), Tool::Pip("pip3"));
        assert_eq!(Tool::parse("alpha-cli"), Tool::Script("alpha-cli"));
        // Only the exact names are Python's and pip's: a versioned name is a console script.
        assert_eq!(Tool::parse("python3.12"), Tool::Script("python3.12"));
        assert_eq!(Tool::parse("pip3.12"), Tool::Script("pip3.12"));
        assert_eq!(Tool::parse("pip3").name(), "pip3");
    }

    #[test]
    fn python_runs_from_the_layer_over_the_environment() {
        let (env, layer) = (Path::new("/c/envs/k"), Path::new("/c/layers/l"));
        let launch = Launch::from_bin(Venv::of(env, Some(layer)), "python3", args(&["-c", "pass"]));
        assert_eq!(
            launch,
            Launch::InEnv {
                program: layer.join("bin/python3"),
                dir: layer.to_path_buf(),
                under: Some(env.to_path_buf()),
                args: args(&["-c", "pass"]),
            }
        );
        let launch = Launch::from_bin(Venv::of(env, None), "pip", args(&["list"]));
        assert_eq!(
            launch,
            Launch::InEnv { program: env.join("bin/pip"), dir: env.to_path_buf(), under: None, args: args(&["list"]) }
        );
    }

    #[test]
    fn a_pass_through_takes_cove_off_path_or_says_what_is_missing() {
        let shims = Path::new("/home/u/.cove/shims");
        let found = vec![PathBuf::from("/usr/bin/python3"), PathBuf::from("/opt/bin/python3")];
        let launch =
            pass_through_to("python3", found, vec![PathBuf::from("/alias/shims")], shims, args(&["x.py"])).unwrap();
        assert_eq!(
            launch,
            Launch::PassThrough {
                program: PathBuf::from("/usr/bin/python3"),
                drop: vec![PathBuf::from("/alias/shims"), shims.to_path_buf()],
                args: args(&["x.py"]),
            }
        );
        let none = |name| pass_through_to(name, Vec::new(), Vec::new(), shims, Vec::new()).unwrap_err();
        assert!(matches!(none("python3"), Error::NotFound { name } if name == "python3"));
        assert!(matches!(none("pip"), Error::NotFound { .. }));
        assert!(matches!(none("alpha-cli"), Error::CommandNotFound { manifest: None, .. }));
    }
}
