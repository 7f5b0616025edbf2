//! `cove pin [VERSION] [--manifest]` (SPEC §2, §7): write the project's Python pin where it
//! belongs — `.python-version` (pyenv's format), or with `--manifest` the manifest's own
//! `python` (cove.toml's top-level key, pyproject.toml's `[tool.cove].python`) — after checking
//! it against the manifest's constraint and the interpreters found. Alone, show the pin and
//! where it comes from.
//!
//! Nothing is written unless the pin both falls within the constraint and names an installed
//! interpreter, and nothing stays written when the project no longer plans with it. What is
//! written is trusted only in a project that was trusted before.

use std::path::{Path, PathBuf};

use crate::error::{Error, IoContext, Result};
use crate::manifest::PythonConstraint;
use crate::plan::interpreter::{Finder, Interpreter, Request, list};
use crate::plan::project::{Kind, Project};
use crate::settings::Settings;

pub fn run(settings: &Settings, version: Option<String>, to_manifest: bool) -> Result<()> {
    match version {
        None if to_manifest => Err(Error::Usage("--manifest needs a VERSION to write".into())),
        None => show(settings),
        Some(v) => pin(settings, &v, to_manifest),
    }
}

/// A version name as `.python-version` holds one; never a path (SPEC §5: a name does not reach
/// outside the interpreter folders it names).
fn parse_pin(text: &str, to_manifest: bool) -> Result<Request> {
    let t = text.trim();
    let bad = || {
        Error::Usage(format!(
            "{t:?} is not a Python version name; write one like 3.12, 3.11.7, pypy3.10 or system (no paths)"
        ))
    };
    if t.is_empty() || t.contains('/') || t.contains("..") || t.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad());
    }
    let request = match Request::parse(t, Path::new("/")) {
        Some(r @ (Request::Version { .. } | Request::System)) => r,
        _ => return Err(bad()),
    };
    if to_manifest {
        // The manifest's `python` is a constraint: "3.12" there means 3.12.*.
        let plain = matches!(&request, Request::Version { implementation, prefix } if implementation.is_empty() && !prefix.is_empty());
        if !plain {
            return Err(Error::Usage(format!("--manifest takes a plain version like 3.12 or 3.11.7, not {t:?}")));
        }
    }
    Ok(request)
}

fn pin(settings: &Settings, version: &str, to_manifest: bool) -> Result<()> {
    let version = version.trim();
    let request = parse_pin(version, to_manifest)?;
    let project = crate::plan::resolve::require_project()?;
    if project.kind == Kind::Script {
        return Err(Error::NotForScripts { command: "pin" });
    }
    if to_manifest && project.kind == Kind::Requirements {
        return Err(Error::NoPinPlace { manifest: project.manifest.clone(), version: version.to_string() });
    }
    let manifest = crate::manifest::load(&project)?;
    let was_trusted = crate::plan::trust::is_trusted(&manifest, settings);
    let finder = Finder::new(&settings.cache_dir, settings.shims_dir());
    let before = crate::plan::resolve::plan(project.clone(), settings, &finder).ok();

    // The constraint the pin must fall within: written in --manifest's place, it replaces the
    // manifest's own `python`, so only pyproject's `requires-python` still bounds it.
    let constraint = if to_manifest { requires_python(&project)? } else { manifest.python.clone() };
    let all = finder.all();
    let matching: Vec<&Interpreter> = all.iter().filter(|i| request.matches(i)).collect();
    let allowed = |i: &&Interpreter| constraint.as_ref().is_none_or(|c| c.allows(&i.version()));
    if let Some(c) = &constraint {
        let outside = if matching.is_empty() { !could_satisfy(&request, c) } else { !matching.iter().any(allowed) };
        if outside {
            return Err(Error::PinUnsatisfied {
                pin: version.to_string(),
                constraint: Some(format!("{:?} ({})", c.text, c.pos)),
                found: list(all.iter().filter(allowed)),
                install: None,
            });
        }
    }
    let Some(chosen) = matching.iter().find(|i| allowed(i)) else {
        let uv = crate::build::backend::select(settings).is_ok_and(|b| b.name() == "uv");
        return Err(Error::PinUnsatisfied {
            pin: version.to_string(),
            constraint: None,
            found: list(&all),
            install: (uv && request != Request::System).then(|| format!("uv python install {version}")),
        });
    };

    let (file, old) = if to_manifest {
        let path = project.manifest.clone();
        let old = std::fs::read(&path).ctx("read", &path)?;
        let new = crate::manifest::edit::set_python(&path, &String::from_utf8_lossy(&old), project.kind, version)?;
        crate::fsx::write_atomic(&path, new.as_bytes())?;
        (path, Some(old))
    } else {
        let path = project.dir.join(".python-version");
        let old = std::fs::read(&path).ok();
        crate::fsx::write_atomic(&path, format!("{version}\n").as_bytes())?;
        (path, old)
    };
    // The project as it now reads; a plan that fails with the pin puts the file back.
    let plan = crate::plan::resolve::plan(project.clone(), settings, &finder);
    let plan = match plan {
        Ok(plan) => plan,
        Err(e) => {
            restore(&file, old.as_deref())?;
            return Err(match python_version_file(&project.dir) {
                Some((names, pv)) if to_manifest && settings.python.is_none() => {
                    Error::PinRuledOut { file: pv, names, version: version.to_string() }
                }
                _ => e,
            });
        }
    };
    if was_trusted {
        crate::plan::trust::trust(&plan.manifest, settings)?;
    }
    crate::ui::out(&report(&file, version, chosen, before.as_ref(), &plan, settings, was_trusted));
    Ok(())
}

fn restore(file: &Path, old: Option<&[u8]>) -> Result<()> {
    match old {
        Some(bytes) => crate::fsx::write_atomic(file, bytes),
        None => std::fs::remove_file(file).ctx("remove", file),
    }
}

fn report(
    file: &Path,
    version: &str,
    chosen: &Interpreter,
    before: Option<&crate::plan::Plan>,
    plan: &crate::plan::Plan,
    settings: &Settings,
    trusted: bool,
) -> String {
    let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let mut t = format!("pinned Python {version} in {name}: {} {}\n", chosen.describe(), chosen.path.display());
    let interp = plan.interpreter();
    if interp.path != chosen.path {
        // The python setting (COVE_PYTHON, --python) takes the place of .python-version.
        t.push_str(&format!(
            "here cove uses {} {} ({})\n",
            interp.describe(),
            interp.path.display(),
            plan.choice.reason
        ));
    }
    match before {
        Some(b) if b.key.hex != plan.key.hex => {
            t.push_str(&format!("key: {} → {}\n", b.key.short(), plan.key.short()));
        }
        _ => t.push_str(&format!("key: {} (unchanged)\n", plan.key.short())),
    }
    if !trusted && !crate::plan::trust::is_trusted(&plan.manifest, settings) {
        t.push_str(&format!(
            "the project is not trusted; review it, then run `{}`\n",
            crate::plan::trust::trust_command(&plan.manifest)
        ));
    }
    t
}

/// Whether some version the request names could satisfy `c` (used when no installed
/// interpreter matches: the lowest and a high patch of its prefix are tried).
fn could_satisfy(request: &Request, c: &PythonConstraint) -> bool {
    let Request::Version { prefix, .. } = request else { return true };
    if prefix.is_empty() {
        return true;
    }
    let mut tries = vec![prefix.clone()];
    if prefix.len() < 3 {
        let pad = |n: u64| prefix.iter().copied().chain(std::iter::repeat_n(n, 3 - prefix.len())).collect::<Vec<_>>();
        tries = vec![pad(0), pad(999)];
    }
    tries.into_iter().any(|r| c.allows(&pep440_rs::Version::new(r)))
}

/// pyproject.toml's `[project].requires-python`, when it has one.
fn requires_python(project: &Project) -> Result<Option<PythonConstraint>> {
    if project.kind != Kind::Pyproject {
        return Ok(None);
    }
    let bytes = crate::fsx::read_manifest(&project.manifest)?;
    let text = String::from_utf8_lossy(&bytes);
    crate::manifest::pyproject::requires_python(&crate::tomlx::Doc::parse(&project.manifest, &text)?)
}

/// The version names in `dir/.python-version` (comments skipped) and the file.
fn python_version_file(dir: &Path) -> Option<(String, PathBuf)> {
    let file = dir.join(".python-version");
    let bytes = crate::fsx::read_manifest(&file).ok()?;
    let names: Vec<String> = String::from_utf8_lossy(&bytes)
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| l.escape_debug().to_string())
        .collect();
    (!names.is_empty()).then(|| (names.join(" "), file))
}

/// `cove pin` alone: the pin, where it comes from, and the interpreter it gives here.
fn show(settings: &Settings) -> Result<()> {
    let finder = Finder::new(&settings.cache_dir, settings.shims_dir());
    let project = crate::plan::resolve::current_project()?;
    let manifest = project.as_ref().and_then(|p| crate::manifest::load(p).ok());
    let constraint = manifest.as_ref().and_then(|m| m.python.as_ref());
    let pin = if let Some(s) = &settings.python {
        let from = if std::env::var("COVE_PYTHON").is_ok_and(|v| v == *s) {
            "COVE_PYTHON"
        } else {
            "--python or the config file's python"
        };
        format!("{} (the python setting, from {from})", s.escape_debug())
    } else if let Some((names, file)) = project.as_ref().and_then(|p| python_version_file(&p.dir)) {
        format!("{names} (from {})", file.display())
    } else if let Some(c) = constraint {
        format!("{:?} (the manifest's python, {})", c.text, c.pos)
    } else {
        "none: the first python3 on PATH (after cove's shims) decides, else the highest installed".into()
    };
    let mut t = format!("pin:     {pin}\n");
    if let (Some(c), true) = (constraint, settings.python.is_some() || t.contains(".python-version")) {
        t.push_str(&format!("bounds:  {:?} ({})\n", c.text, c.pos));
    }
    let choice = match project {
        Some(p) => crate::plan::resolve::plan(p, settings, &finder).map(|plan| plan.choice),
        None => crate::plan::interpreter::choose(&finder, None, settings.python.as_deref(), None, &|| false),
    };
    let python = choice.map_or_else(
        |e| format!("none ({e})"),
        |c| format!("{} {} ({})", c.interpreter.describe(), c.interpreter.path.display(), c.reason),
    );
    t.push_str(&format!("python:  {python}\n"));
    crate::ui::out(&t);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_are_version_names_never_paths() {
        assert!(parse_pin("3.12", false).is_ok());
        assert!(parse_pin("pypy3.10", false).is_ok());
        assert!(parse_pin("system", false).is_ok());
        for bad in ["../../bin/python", "/usr/bin/python3", "3.12/..", "..", "3.12\n3.11", "", "x y"] {
            assert!(parse_pin(bad, false).is_err(), "{bad:?}");
        }
        assert!(parse_pin("3.12", true).is_ok());
        assert!(parse_pin("system", true).is_err());
        assert!(parse_pin("pypy3.10", true).is_err());
    }

    #[test]
    fn a_prefix_could_satisfy_a_constraint_when_some_patch_does() {
        let pos = crate::error::Pos { file: "m".into(), line: 1, column: 1 };
        let c = PythonConstraint::parse(">=3.10.5", pos.clone()).unwrap();
        let r = |s: &str| Request::parse(s, Path::new("/")).unwrap();
        assert!(could_satisfy(&r("3.10"), &c));
        assert!(!could_satisfy(&r("3.9"), &c));
        assert!(!could_satisfy(&r("3.10.4"), &c));
        let c = PythonConstraint::parse(">=3.11", pos).unwrap();
        assert!(!could_satisfy(&r("3.10"), &c));
        assert!(could_satisfy(&r("3"), &c));
    }
}
