//! `cove list [--json]`: every cached environment with its key, interpreter, requirement count,
//! size, last use, projects (those whose folder is gone marked) and state.
//!
//! Sizes are disk usage, a file hard-linked into several environments (pip from the seed, a
//! wheel uv linked from its cache) counted once, in the first listed: the total is what the
//! environments take on disk. The table takes the size measured at build time of an
//! environment with no hard-linked file; `--json` measures each environment now.

use std::time::SystemTime;

use serde_json::{Value, json};

use crate::cache::inventory::{self, Env};
use crate::cache::{Cache, Kind};
use crate::error::Result;
use crate::settings::Settings;
use crate::ui::shown;
use crate::ui::units::{format_age, format_size, rfc3339};

pub fn run(settings: &Settings, as_json: bool) -> Result<()> {
    let cache = Cache::new(&settings.cache_dir);
    let entries = inventory::scan(&cache)?;
    let mut counted = crate::fsx::Counted::default();
    if as_json {
        let list: Vec<Value> = entries.iter().map(|e| to_json(e, e.measure(&mut counted))).collect();
        crate::ui::json(&Value::Array(list));
    } else if entries.is_empty() {
        let dir = Kind::Env.bucket().under(&cache.root);
        crate::ui::out(&format!("no cached environments in {}\n", shown(dir.display())));
    } else {
        let sizes: Vec<u64> = entries.iter().map(|e| e.size(&mut counted)).collect();
        crate::ui::out(&table(&entries, &sizes, SystemTime::now()));
    }
    Ok(())
}

fn to_json(e: &Env, size: u64) -> Value {
    let folders = |gone: bool| -> Vec<String> {
        e.projects.iter().filter(|p| !gone || p.is_gone()).map(|p| p.folder.display().to_string()).collect()
    };
    json!({
        "key": e.entry.key(),
        "path": crate::fsx::lossy(e.entry.dir()),
        "python": e.info.python,
        "python_version": e.info.python_version,
        "requirements": e.info.requirements,
        "size": size,
        "last_used": e.last_used.map(rfc3339),
        "projects": folders(false),
        "projects_gone": folders(true),
        "state": e.state.as_str(),
        "with": e.info.with,
        "over": e.info.over,
        "origin": e.info.origin,
        "broken": e.broken.map(|b| b.describe()),
        "layers": e.layers.iter().map(|l| json!({
            "key": l.entry.key(),
            "path": crate::fsx::lossy(l.entry.dir()),
            "project": crate::fsx::lossy(&l.project),
            "project_gone": l.project_gone(),
            "state": if l.ready { "ready" } else { "broken" },
        })).collect::<Vec<_>>(),
    })
}

fn table(entries: &[Env], sizes: &[u64], now: SystemTime) -> String {
    let header = ["KEY", "PYTHON", "REQS", "SIZE", "LAST USED", "STATE", "PROJECTS"];
    let mut total = 0;
    let rows: Vec<[String; 7]> = entries
        .iter()
        .zip(sizes)
        .map(|(e, &size)| {
            total += size;
            let shown_project = |p: &crate::cache::usage::ProjectRecord| {
                format!("{}{}", shown(p.folder.display()), if p.is_gone() { " (gone)" } else { "" })
            };
            let projects: Vec<String> = e.projects.iter().map(shown_project).collect();
            let state = match (e.broken, e.info.origin.as_deref()) {
                (Some(b), _) => format!("broken: {}", b.describe()),
                (None, Some(origin)) if origin.starts_with("pulled") => format!("{} ({origin})", e.state.as_str()),
                (None, _) => e.state.as_str().to_string(),
            };
            [
                e.entry.key()[..e.entry.key().len().min(12)].to_string(),
                e.info.python_version.clone().unwrap_or_else(|| "?".into()),
                e.info.requirements.map_or_else(|| "?".into(), |n| n.to_string()),
                format_size(size),
                e.last_used.map_or_else(|| "never".into(), |t| format_age(t, now)),
                state,
                match &e.info.with {
                    Some(with) => format!(
                        "run --with {} (over {})",
                        with.join(" "),
                        e.info.over.as_deref().map_or("?", |k| &k[..k.len().min(12)])
                    ),
                    None if projects.is_empty() => "-".into(),
                    None => projects.join(", "),
                },
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    // Numbers are right-aligned; the last column is not padded.
    let right = [false, false, true, true, false, false, false];
    let line = |cells: [&str; 7]| -> String {
        let padded = cells.iter().enumerate().map(|(i, cell)| match i {
            6 => cell.to_string(),
            _ if right[i] => format!("{cell:>w$}  ", w = widths[i]),
            _ => format!("{cell:<w$}  ", w = widths[i]),
        });
        padded.collect::<String>().trim_end().to_string() + "\n"
    };
    let mut text = line(header);
    for (row, e) in rows.iter().zip(entries) {
        text.push_str(&line(row.each_ref().map(String::as_str)));
        for l in &e.layers {
            let gone = if l.project_gone() { " (gone)" } else { "" };
            let state = if l.ready { "" } else { " (unfinished)" };
            text.push_str(&format!(
                "  └ layer {}  {}{gone}{state}\n",
                &l.entry.key()[..l.entry.key().len().min(12)],
                shown(l.project.display())
            ));
        }
    }
    let n = entries.len();
    text.push_str(&format!(
        "{n} environment{}, {} in all (on disk: a file hard-linked into several, such as pip from the seed, counts once)\n",
        if n == 1 { "" } else { "s" },
        format_size(total)
    ));
    text
}
