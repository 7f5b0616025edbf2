//! `cove push [--all]`: upload the project's environment (or every ready one) to the team
//! cache (SPEC §8). Only shared environments go: a project's own layer (its editable install)
//! names folders of this machine and is never pushed.

use crate::cache::Cache;
use crate::error::{Error, Result};
use crate::plan::interpreter::Finder;
use crate::remote::{Fault, Pushed};
use crate::settings::Settings;

pub fn run(settings: &Settings, all: bool, key: Option<String>) -> Result<()> {
    let remote = settings.remote.as_ref().ok_or(Error::NoRemote)?;
    let cache = Cache::new(&settings.cache_dir);
    cache.check_private()?;
    let keys: Vec<String> = if let Some(key) = key {
        vec![key]
    } else if all {
        crate::cache::inventory::scan(&cache)?
            .into_iter()
            .filter(|e| e.state == crate::cache::State::Ready)
            .filter(|e| e.info.canonical.as_ref().is_some_and(|c| !c.contains("(dynamic)")))
            .map(|e| e.entry.key().to_string())
            .collect()
    } else {
        let project = crate::plan::resolve::require_project()?;
        let finder = Finder::new(&settings.cache_dir, settings.shims_dir());
        let plan = crate::plan::resolve::plan(project, settings, &finder)?;
        if !cache.is_usable(&plan.key.hex) {
            return Err(Error::NotBuilt { key: plan.key.short().to_string() });
        }
        if plan.layer_dir.is_some() {
            crate::ui::note(
                settings.quiet,
                "the project's own layer (its editable install) stays on this machine; pushing the environment under it",
            );
        }
        vec![plan.key.hex]
    };
    let store = crate::remote::open(remote);
    let mut failed = None;
    for key in keys {
        let short = &key[..key.len().min(12)];
        if !cache.is_usable(&key) {
            failed = Some(Error::Push { key: short.into(), url: remote.url.clone(), why: "it is not ready".into() });
            continue;
        }
        // One upload per key at a time; another one running does the work.
        let Some(_guard) = crate::cache::filelock::try_exclusive(&cache.lock_path(&format!("push-{key}")))? else {
            crate::ui::note(settings.quiet, &format!("environment {short} is being pushed by another process"));
            continue;
        };
        match crate::remote::push(store.as_ref(), &cache, &cache.entry(crate::cache::Kind::Env, &key)) {
            Ok(Pushed::Uploaded(size)) => crate::ui::note(
                settings.quiet,
                &format!("pushed environment {short} to {} ({})", remote.url, crate::ui::units::format_size(size)),
            ),
            Ok(Pushed::AlreadyThere) => {
                crate::ui::note(settings.quiet, &format!("environment {short} is already in {}", remote.url));
            }
            Err(Fault(why)) => {
                let e = Error::Push { key: short.into(), url: remote.url.clone(), why };
                if failed.is_some() {
                    crate::ui::error(&e);
                }
                failed = Some(e);
            }
        }
    }
    failed.map_or(Ok(()), Err)
}
