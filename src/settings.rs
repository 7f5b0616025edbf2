//! Settings: defaults < config file < `COVE_*` environment < command-line flags (SPEC §8),
//! and the folders cove uses (`directories` gives the platform defaults).

use std::path::{Path, PathBuf};

use crate::error::{Error, IoContext, Result};
use crate::tomlx::Doc;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendChoice {
    Auto,
    Uv,
    Pip,
}

impl BackendChoice {
    pub fn parse(s: &str) -> Option<BackendChoice> {
        match s {
            "auto" => Some(BackendChoice::Auto),
            "uv" => Some(BackendChoice::Uv),
            "pip" => Some(BackendChoice::Pip),
            _ => None,
        }
    }
}

/// Where the cache, the data folder and the config file are, from the environment alone: no
/// file is read (the shell hook's steady path needs the paths, not the settings).
#[derive(Debug, Clone)]
pub struct Locations {
    pub cache_dir: PathBuf,
    pub home_dir: PathBuf,
    pub config_file: PathBuf,
}

impl Locations {
    /// The folders, leniently: a relative `COVE_*` path is taken against the current folder
    /// (the hook must never fail; `Settings::load` reports such a value as an error).
    pub fn from_env() -> Locations {
        Locations::read(false).unwrap_or_else(|_| unreachable!("lenient reads do not fail"))
    }

    /// The folders, refusing relative `COVE_*` paths: taken against the current folder they would
    /// give every project a cache of its own. Empty means unset, as for most tools' variables.
    pub fn checked() -> Result<Locations> {
        Locations::read(true)
    }

    fn read(strict: bool) -> Result<Locations> {
        let dirs = directories::ProjectDirs::from("", "", "cove");
        let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| "/".into());
        let pick = |var: &str, default: Option<PathBuf>, fallback: &str| -> Result<PathBuf> {
            match std::env::var_os(var).filter(|v| !v.is_empty()) {
                Some(v) if strict => absolute_setting(var, &v),
                Some(v) => Ok(absolute(Path::new(&v))),
                None => Ok(default.unwrap_or_else(|| home.join(fallback))),
            }
        };
        Ok(Locations {
            cache_dir: pick("COVE_CACHE_DIR", dirs.as_ref().map(|d| d.cache_dir().to_path_buf()), ".cache/cove")?,
            home_dir: pick("COVE_HOME", dirs.as_ref().map(|d| d.data_dir().to_path_buf()), ".local/share/cove")?,
            config_file: pick(
                "COVE_CONFIG",
                dirs.as_ref().map(|d| d.config_dir().join("config.toml")),
                ".config/cove/config.toml",
            )?,
        })
    }

    pub fn shims_dir(&self) -> PathBuf {
        self.home_dir.join("shims")
    }
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub cache_dir: PathBuf,
    pub home_dir: PathBuf,
    pub config_file: PathBuf,
    pub backend: BackendChoice,
    /// A version request or interpreter path that replaces `.python-version` and PATH.
    pub python: Option<String>,
    pub offline: bool,
    pub quiet: bool,
    /// Stream installer output live (`-v`, `COVE_VERBOSE`).
    pub verbose: bool,
    pub prebuild: bool,
    pub trusted_dirs: Vec<PathBuf>,
    pub use_lock: bool,
    pub trust_all: bool,
    pub gc_max_size: Option<u64>,
    pub gc_older_than: Option<u64>,
    /// The team cache (SPEC §8 `[remote]`), from the config file or `COVE_REMOTE` only.
    pub remote: Option<RemoteSettings>,
}

/// `[remote]`: where the team cache is (`oci://host[:port]/repo` or `file:///folder`), whether
/// local builds are uploaded, and how long the remote may delay a build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteSettings {
    pub url: String,
    pub push: bool,
    pub timeout: std::time::Duration,
}

/// How long a slow or unreachable remote may delay a build (SPEC §8).
pub const REMOTE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// Values given on the command line, which win over everything else.
#[derive(Debug, Default, Clone)]
pub struct Flags {
    pub backend: Option<BackendChoice>,
    pub python: Option<String>,
    pub offline: bool,
    pub quiet: bool,
    pub verbose: bool,
}

const CONFIG_KEYS: &[&str] =
    &["backend", "python", "offline", "quiet", "prebuild", "trusted-dirs", "use-lock", "gc", "remote"];
const GC_KEYS: &[&str] = &["max-size", "older-than"];
const REMOTE_KEYS: &[&str] = &["url", "push", "timeout"];

impl Settings {
    /// Load the settings; the config file is read only when it exists.
    pub fn load(flags: &Flags) -> Result<Settings> {
        Settings::load_with(flags, true)
    }

    /// The settings without the config file, so `cove doctor` can carry on past a bad one.
    pub fn load_without_config(flags: &Flags) -> Result<Settings> {
        Settings::load_with(flags, false)
    }

    fn load_with(flags: &Flags, read_config: bool) -> Result<Settings> {
        let Locations { cache_dir, home_dir, config_file } = Locations::checked()?;
        let mut s = Settings {
            cache_dir,
            home_dir,
            config_file,
            backend: BackendChoice::Auto,
            python: None,
            offline: false,
            quiet: false,
            verbose: false,
            prebuild: true,
            trusted_dirs: Vec::new(),
            use_lock: true,
            trust_all: false,
            gc_max_size: None,
            gc_older_than: None,
            remote: None,
        };
        if read_config {
            s.read_config_file()?;
        }
        s.read_environment()?;
        s.backend = flags.backend.unwrap_or(s.backend);
        s.python = flags.python.clone().or(s.python);
        s.offline |= flags.offline;
        s.quiet |= flags.quiet;
        s.verbose |= flags.verbose;
        Ok(s)
    }

    fn read_config_file(&mut self) -> Result<()> {
        let path = self.config_file.clone();
        let Some(text) = std::fs::read_to_string(&path).found("read config file", &path)? else { return Ok(()) };
        check_config_owner(&path)?;
        let doc = Doc::parse(&path, &text)?;
        let root = doc.root();
        doc.check_keys(root, CONFIG_KEYS, "")?;
        if let Some(item) = root.get("backend") {
            let v = doc.string(item, "backend")?;
            self.backend = BackendChoice::parse(&v).ok_or_else(|| {
                doc.error(item, format!("unknown backend {v:?}")).with_hint("use \"auto\", \"uv\" or \"pip\"")
            })?;
        }
        self.python = root.get("python").map(|item| doc.string(item, "python")).transpose()?;
        for (key, flag) in [
            ("offline", &mut self.offline),
            ("quiet", &mut self.quiet),
            ("prebuild", &mut self.prebuild),
            ("use-lock", &mut self.use_lock),
        ] {
            if let Some(item) = root.get(key) {
                *flag = doc.bool(item, key)?;
            }
        }
        if let Some(item) = root.get("trusted-dirs") {
            for (dir, pos) in doc.strings(item, "trusted-dirs")? {
                // A relative entry would trust a different folder from every current folder
                // (`"."` would trust them all).
                let path = expand_home(&dir);
                if dir.is_empty() || !(dir.starts_with('/') || dir.starts_with("~/")) {
                    return Err(Error::invalid(pos, format!("`trusted-dirs` entry {dir:?} is not an absolute path"))
                        .with_hint("write it as a full path (`/home/me/work`) or from your home (`~/work`)"));
                }
                // Kept as written: `trust` compares it with `..` and links resolved.
                self.trusted_dirs.push(path);
            }
        }
        if let Some(item) = root.get("gc") {
            let table = doc.table(item, "gc")?;
            doc.check_keys(table, GC_KEYS, "gc.")?;
            if let Some(i) = table.get("max-size") {
                let v = doc.string(i, "gc.max-size")?;
                self.gc_max_size = Some(parse_size(&v).ok_or_else(|| {
                    doc.error(i, format!("invalid size {v:?}")).with_hint("write it like \"500M\" or \"10G\"")
                })?);
            }
            if let Some(i) = table.get("older-than") {
                let v = doc.string(i, "gc.older-than")?;
                self.gc_older_than = Some(parse_duration(&v).ok_or_else(|| {
                    doc.error(i, format!("invalid duration {v:?}"))
                        .with_hint("write it like \"30d\", \"12h\" or \"90m\"")
                })?);
            }
        }
        if let Some(item) = root.get("remote") {
            let table = doc.table(item, "remote")?;
            doc.check_keys(table, REMOTE_KEYS, "remote.")?;
            let mut remote = RemoteSettings { url: String::new(), push: false, timeout: REMOTE_TIMEOUT };
            if let Some(i) = table.get("url") {
                let url = doc.string(i, "remote.url")?;
                if !remote_url_ok(&url) {
                    return Err(doc.error(i, format!("invalid remote url {url:?}")).with_hint(REMOTE_URL_HINT));
                }
                remote.url = url;
            }
            remote.push = table.get("push").map(|i| doc.bool(i, "remote.push")).transpose()?.unwrap_or(false);
            if let Some(i) = table.get("timeout") {
                let v = doc.string(i, "remote.timeout")?;
                remote.timeout = parse_timeout(&v).ok_or_else(|| {
                    doc.error(i, format!("invalid duration {v:?}"))
                        .with_hint("write it like \"5s\", \"500ms\" or \"1m\"")
                })?;
            }
            self.remote = Some(remote);
        }
        Ok(())
    }

    fn read_environment(&mut self) -> Result<()> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        if let Some(v) = var("COVE_BACKEND") {
            self.backend = BackendChoice::parse(&v)
                .ok_or_else(|| Error::Usage(format!("COVE_BACKEND={v:?} is not a backend; use auto, uv or pip")))?;
        }
        self.python = var("COVE_PYTHON").or(self.python.take());
        for (name, flag) in [
            ("COVE_OFFLINE", &mut self.offline),
            ("COVE_QUIET", &mut self.quiet),
            ("COVE_VERBOSE", &mut self.verbose),
            ("COVE_PREBUILD", &mut self.prebuild),
            ("COVE_TRUST_ALL", &mut self.trust_all),
        ] {
            if let Some(v) = var(name) {
                *flag = !matches!(v.to_ascii_lowercase().as_str(), "0" | "false" | "no" | "off" | "");
            }
        }
        if let Some(url) = var("COVE_REMOTE") {
            if !remote_url_ok(&url) {
                return Err(Error::Usage(format!("COVE_REMOTE={url:?} is not a remote; {REMOTE_URL_HINT}")));
            }
            let remote =
                self.remote.get_or_insert(RemoteSettings { url: String::new(), push: false, timeout: REMOTE_TIMEOUT });
            remote.url = url;
        }
        // A `[remote]` table without a url names no remote.
        if self.remote.as_ref().is_some_and(|r| r.url.is_empty()) {
            self.remote = None;
        }
        Ok(())
    }

    pub fn shims_dir(&self) -> PathBuf {
        self.home_dir.join("shims")
    }
}

/// A config file can grant trust, so one that others could have written is refused.
fn check_config_owner(path: &Path) -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(path).ctx("read config file", path)?;
    let me = unsafe { libc::geteuid() };
    if meta.uid() != me || meta.mode() & 0o022 != 0 {
        return Err(Error::UnsafeConfig { path: path.to_path_buf() });
    }
    Ok(())
}

pub fn expand_home(p: &str) -> PathBuf {
    std::env::current_dir().map_or_else(|_| PathBuf::from(p), |cwd| expand_home_from(p, &cwd))
}

/// `~/x` → `$HOME/x`; a relative path is taken relative to `base`.
pub fn expand_home_from(p: &str, base: &Path) -> PathBuf {
    if let Some(rest) = p.strip_prefix("~/")
        && let Some(home) = std::env::var_os("HOME")
    {
        return PathBuf::from(home).join(rest);
    }
    base.join(p)
}

/// The path in environment variable `var` (value `v`): absolute, or `~/…` from HOME.
fn absolute_setting(var: &str, v: &std::ffi::OsStr) -> Result<PathBuf> {
    let text = v.to_string_lossy();
    let from_home = text.strip_prefix("~/").filter(|_| v.to_str().is_some());
    let from_home = from_home.and_then(|rest| Some(PathBuf::from(std::env::var_os("HOME")?).join(rest)));
    let path = from_home.unwrap_or_else(|| PathBuf::from(v));
    if !path.is_absolute() {
        return Err(Error::BadPath { setting: var.to_string(), value: text.into_owned() });
    }
    Ok(crate::fsx::normal_path(&path))
}

pub fn absolute(p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir().map(|d| d.join(p)).unwrap_or_else(|_| p.to_path_buf())
    }
}

const REMOTE_URL_HINT: &str = "write it like \"oci://registry.example.org/team/cove\" or \"file:///mnt/team/cove\"";

/// `oci://host[:port]/repository` or `file:///absolute/folder`.
fn remote_url_ok(url: &str) -> bool {
    if let Some(rest) = url.strip_prefix("oci://") {
        let (host, repo) = rest.split_once('/').unwrap_or((rest, ""));
        return !host.is_empty() && !repo.is_empty() && !repo.ends_with('/');
    }
    url.strip_prefix("file://").is_some_and(|p| p.starts_with('/'))
}

/// `5s`, `500ms`, `2m`, or a bare number of seconds.
pub fn parse_timeout(s: &str) -> Option<std::time::Duration> {
    let s = s.trim();
    if let Some(ms) = s.strip_suffix("ms") {
        return ms.trim().parse().ok().map(std::time::Duration::from_millis);
    }
    let suffixed = s.strip_suffix('s').map(|n| (n, 1.0)).or_else(|| s.strip_suffix('m').map(|n| (n, 60.0)));
    let (num, mult) = suffixed.unwrap_or((s, 1.0));
    let n: f64 = num.trim().parse().ok()?;
    (n >= 0.0 && n.is_finite()).then(|| std::time::Duration::from_secs_f64(n * mult))
}

/// `500M`, `10G`, `1024` (bytes): powers of 1024.
pub fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(s.len()));
    let n: f64 = num.parse().ok()?;
    let mult: u64 = match unit.trim().to_ascii_uppercase().trim_end_matches("IB").trim_end_matches('B') {
        "" => 1,
        "K" => 1 << 10,
        "M" => 1 << 20,
        "G" => 1 << 30,
        "T" => 1 << 40,
        _ => return None,
    };
    Some((n * mult as f64) as u64)
}

/// `30d`, `12h`, `90m`, `45s` → seconds.
pub fn parse_duration(s: &str) -> Option<u64> {
    let s = s.trim();
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = num.parse().ok()?;
    let mult = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" | "" => 86400,
        "w" => 7 * 86400,
        _ => return None,
    };
    Some(n * mult)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_powers_of_1024() {
        assert_eq!(parse_size("500M"), Some(500 << 20));
        assert_eq!(parse_size("10G"), Some(10 << 30));
        assert_eq!(parse_size("1.5K"), Some(1536));
        assert_eq!(parse_size("12X"), None);
    }

    #[test]
    fn path_variables_must_be_absolute() {
        assert_eq!(absolute_setting("V", "/a/./b/../c".as_ref()).unwrap(), Path::new("/a/c"));
        let e = absolute_setting("COVE_CACHE_DIR", "relative".as_ref()).unwrap_err();
        assert_eq!(e.to_string(), "COVE_CACHE_DIR must be an absolute path, not \"relative\"");
        assert!(absolute_setting("V", "./x".as_ref()).is_err());
    }

    #[test]
    fn remote_urls_and_timeouts() {
        assert!(remote_url_ok("oci://127.0.0.1:5000/team/cove"));
        assert!(remote_url_ok("file:///mnt/team/cove"));
        assert!(!remote_url_ok("oci://host"));
        assert!(!remote_url_ok("file://relative"));
        assert!(!remote_url_ok("https://host/repo"));
        assert_eq!(parse_timeout("5s"), Some(std::time::Duration::from_secs(5)));
        assert_eq!(parse_timeout("250ms"), Some(std::time::Duration::from_millis(250)));
        assert_eq!(parse_timeout("1m"), Some(std::time::Duration::from_secs(60)));
        assert_eq!(parse_timeout("soon"), None);
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30d"), Some(30 * 86400));
        assert_eq!(parse_duration("12h"), Some(12 * 3600));
        assert_eq!(parse_duration("90m"), Some(90 * 60));
        assert_eq!(parse_duration("x"), None);
    }
}
