//! The team cache (SPEC §8 `[remote]`): environments built once per team, kept in an OCI
//! registry (`oci://host[:port]/repository`) or a plain folder (`file:///mnt/team/cove`), both
//! behind [`Store`].
//!
//! The key is a content address, so an environment built on one machine is the one another
//! machine would build for the same key (same interpreter path, platform and requirements). The
//! artifact (see `artifact`) is one OCI image manifest tagged with the key's hex: a config blob
//! (what `cove-env.json` says), one layer (the environment as a path-neutral zstd-compressed tar; gzip'd layers, which cove
//! wrote before, are still read) and
//! annotations naming the key, its canonical text, cove's version, the interpreter and the size.
//!
//! Pull (from `build.rs`, under the key's lock, only for a trusted plan: pulling is installing):
//! the manifest is read, refused unless its canonical text is the key's, the layer unpacked into
//! the attempt folder as it downloads, and the folder published exactly as a local build is
//! (`staging`) only once the whole download's size and digest are checked. Anything wrong — a
//! registry down, slow, refusing, a digest that does not match — costs at most the timeout and
//! one line, and cove builds as it would without a remote. Push (`cove push`, or after a local build when `push = true`, in a detached
//! `cove push --key K`) packs a ready environment and uploads what the remote lacks.
//!
//! Nothing here is on the shim's warm path: it runs only when an environment is missing.

mod artifact;
mod folder;
mod oci;
mod store;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::cache::staging::{Published, Staging};
use crate::cache::{Bucket, Cache, Entry, EnvInfo};
use crate::plan::Plan;
use crate::settings::{RemoteSettings, Settings};
use store::Hashing;
pub use store::{Fault, Store};

/// The layer cove writes.
pub const LAYER_TYPE: &str = "application/vnd.oci.image.layer.v1.tar+zstd";
/// The layer cove wrote before; still pulled.
pub const LAYER_TYPE_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
pub const CONFIG_TYPE: &str = "application/vnd.cove.env.config.v1+json";
const ANN_KEY: &str = "dev.cove.key";
const ANN_CANONICAL: &str = "dev.cove.canonical";

pub fn open(remote: &RemoteSettings) -> Box<dyn Store> {
    if let Some(rest) = remote.url.strip_prefix("oci://") {
        Box::new(oci::Oci::new(&remote.url, rest, remote.timeout, remote.push))
    } else {
        let path = remote.url.strip_prefix("file://").unwrap_or(&remote.url);
        Box::new(folder::Folder { root: PathBuf::from(path), url: remote.url.clone() })
    }
}

/// Whether an environment of this canonical text may be shared: one holding a local project
/// (`project: … (dynamic)`) names a folder of this machine.
pub fn shareable(canonical: &str) -> bool {
    !canonical.lines().any(|l| l.starts_with("project: "))
}

/// What the pulled environment's `cove-env.json` takes from the artifact's config.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Config {
    pub key: String,
    pub canonical: String,
    pub python: Option<String>,
    pub python_version: Option<String>,
    pub requirements: Option<usize>,
    pub backend: Option<String>,
    pub cove: String,
    pub placeholder: String,
}

/// Before building `plan`'s environment (its lock held, the plan trusted): fetch it from the
/// remote into the attempt folder `staging` and publish it. `None` on a miss or any fault
/// (said in one line), and the caller builds.
pub fn pull(plan: &Plan, settings: &Settings, staging: Staging) -> Option<Published> {
    let remote = settings.remote.as_ref()?;
    if !shareable(&plan.key.canonical) {
        return None;
    }
    let store = open(remote);
    let started = Instant::now();
    match fetch(store.as_ref(), plan, staging) {
        Ok(Some((size, published))) => {
            crate::ui::note(
                settings.quiet,
                &format!(
                    "pulled environment {} from {} ({}, {:.1}s)",
                    plan.key.short(),
                    store.url(),
                    crate::ui::units::format_size(size),
                    started.elapsed().as_secs_f64()
                ),
            );
            Some(published)
        }
        Ok(None) => None,
        Err(Fault(why)) => {
            crate::ui::note(
                settings.quiet,
                &format!("not pulling environment {} from {}: {why}; building it here", plan.key.short(), store.url()),
            );
            None
        }
    }
}

/// The manifest for `plan`'s key checked, the layer downloaded and checked, unpacked and
/// published. `Ok(None)` when the remote does not have it. Returns the download's size.
fn fetch(store: &dyn Store, plan: &Plan, staging: Staging) -> Result<Option<(u64, Published)>, Fault> {
    let Some(bytes) = store.manifest(&plan.key.hex)? else { return Ok(None) };
    let (layer_digest, layer_size, codec, config) = read_manifest(store, &bytes, &plan.key)?;
    std::fs::create_dir(&staging.dir).map_err(|e| Fault(format!("cannot create {}: {e}", staging.dir.display())))?;
    // Unpacked as it downloads, into the attempt folder, which is published only once the
    // whole download's digest is checked.
    let mut download = Hashing::new(store.blob(&layer_digest, layer_size)?.take(layer_size + 1));
    let unpacked = crate::timings::time("pull", || {
        let unpacked = artifact::unpack(&mut download, codec, &staging.dir, &plan.env_dir);
        // The rest of the stream (the compressor's last frame, the tar's padding) counts too.
        (unpacked, std::io::copy(&mut download, &mut std::io::sink()))
    });
    let unpacked = match unpacked {
        (_, Err(e)) => return Err(Fault(format!("the download broke off: {e}"))),
        // The digest first: a corrupted blob is told as such, whatever it unpacked to.
        (unpacked, Ok(_)) => {
            download.check(&layer_digest, layer_size)?;
            unpacked.map_err(|e| Fault(format!("cannot unpack it: {e}")))?
        }
    };
    let origin = format!("pulled from {}", store.url());
    let backend = config.backend.clone().unwrap_or_else(|| "?".into());
    let published = crate::timings::time("seal", || {
        staging.publish_listed(&unpacked.files, unpacked.usage, |usage| plan.env_info(&backend, usage, &origin))
    })
    .map_err(|e| Fault(e.to_string()))?;
    Ok(Some((layer_size, published)))
}

/// Check a manifest against `key`: its annotations name the key and the same canonical text, and
/// its config blob says so too. Returns the layer's digest, size and compression, and the config.
fn read_manifest(
    store: &dyn Store,
    bytes: &[u8],
    key: &crate::plan::key::Key,
) -> Result<(String, u64, artifact::Codec, Config), Fault> {
    let m: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| Fault(format!("its manifest is not JSON ({e})")))?;
    let ann = |name: &str| m.get("annotations").and_then(|a| a.get(name)).and_then(|v| v.as_str());
    if ann(ANN_KEY) != Some(key.hex.as_str()) || ann(ANN_CANONICAL) != Some(key.canonical.as_str()) {
        return Err(Fault("the artifact's canonical text is not this key's, so it is refused".into()));
    }
    let blob = |v: Option<&serde_json::Value>, kind: &str| -> Result<(String, u64), Fault> {
        let v = v.ok_or_else(|| Fault(format!("its manifest has no {kind}")))?;
        let digest = v.get("digest").and_then(|d| d.as_str()).unwrap_or_default().to_string();
        let size = v.get("size").and_then(|s| s.as_u64()).unwrap_or_default();
        Ok((digest, size))
    };
    let layers = m.get("layers").and_then(|l| l.as_array()).filter(|l| l.len() == 1);
    let layer = layers.and_then(|l| l.first());
    let codec = match layer.and_then(|l| l.get("mediaType")).and_then(|t| t.as_str()) {
        Some(LAYER_TYPE) => artifact::Codec::Zstd,
        Some(LAYER_TYPE_GZIP) => artifact::Codec::Gzip,
        _ => return Err(Fault("its manifest is not one zstd or gzip'd tar layer".into())),
    };
    let (digest, size) = blob(layer, "layer")?;
    let (config_digest, config_size) = blob(m.get("config"), "config")?;
    if config_size > 1 << 20 {
        return Err(Fault("its config is too large".into()));
    }
    let mut config_bytes = Vec::new();
    let mut hashing = Hashing::new(&mut config_bytes);
    let mut reader = store.blob(&config_digest, config_size)?;
    std::io::copy(&mut (&mut reader).take(config_size + 1), &mut hashing).map_err(|e| Fault(e.to_string()))?;
    hashing.check(&config_digest, config_size)?;
    let config: Config =
        serde_json::from_slice(&config_bytes).map_err(|e| Fault(format!("its config is not cove's ({e})")))?;
    if config.key != key.hex || config.canonical != key.canonical {
        return Err(Fault("the artifact's canonical text is not this key's, so it is refused".into()));
    }
    if config.placeholder != artifact::PLACEHOLDER {
        return Err(Fault(format!("it was made by another cove ({})", config.cove)));
    }
    Ok((digest, size, codec, config))
}

/// What a push did.
#[derive(Debug, PartialEq, Eq)]
pub enum Pushed {
    /// Uploaded: the artifact's size.
    Uploaded(u64),
    AlreadyThere,
}

/// Upload the ready environment `env` (its `cove-env.json` names its key and text).
pub fn push(store: &dyn Store, cache: &Cache, env: &Entry) -> Result<Pushed, Fault> {
    let env_dir = env.dir();
    let info: EnvInfo = env
        .info()
        .ok_or_else(|| Fault(format!("{} cannot be read", env_dir.join(env.kind().info_file()).display())))?;
    let canonical = info.canonical.clone().unwrap_or_default();
    let key = crate::plan::key::Key::of(canonical.clone());
    if key.hex != env.key() {
        return Err(Fault(format!("{} is not the environment of its canonical text", env_dir.display())));
    }
    if !shareable(&canonical) {
        return Err(Fault("it holds a local project of this machine, so it is not shared".into()));
    }
    if let Some(bytes) = store.manifest(&key.hex)?
        && read_manifest(store, &bytes, &key).is_ok()
    {
        return Ok(Pushed::AlreadyThere);
    }
    let work =
        Bucket::TMP.under(&cache.root).join(format!("push-{}.{}.{}", key.hex, std::process::id(), crate::fsx::nanos()));
    std::fs::create_dir_all(&work).map_err(|e| Fault(format!("cannot create {}: {e}", work.display())))?;
    let result = upload(store, &key, info, env_dir, &work);
    let _ = crate::fsx::remove_tree(&work);
    result
}

fn upload(
    store: &dyn Store,
    key: &crate::plan::key::Key,
    info: EnvInfo,
    env_dir: &Path,
    work: &Path,
) -> Result<Pushed, Fault> {
    let layer_path = work.join("layer.tar.zst");
    let packed = artifact::pack(env_dir, &layer_path).map_err(|e| Fault(format!("cannot pack it: {e}")))?;
    let config = Config {
        key: key.hex.clone(),
        canonical: key.canonical.clone(),
        python: info.python,
        python_version: info.python_version,
        requirements: info.requirements,
        backend: info.backend,
        cove: env!("CARGO_PKG_VERSION").to_string(),
        placeholder: artifact::PLACEHOLDER.to_string(),
    };
    let config_bytes = serde_json::to_vec(&config).expect("plain data");
    let config_digest = format!("sha256:{}", crate::digest::sha256_hex(&config_bytes));
    let config_path = work.join("config.json");
    std::fs::write(&config_path, &config_bytes).map_err(|e| Fault(e.to_string()))?;
    for (digest, path) in [(&packed.digest, &layer_path), (&config_digest, &config_path)] {
        if !store.has_blob(digest)? {
            store.put_blob(digest, path)?;
        }
    }
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": oci::MANIFEST_TYPE,
        "config": { "mediaType": CONFIG_TYPE, "digest": config_digest, "size": config_bytes.len() },
        "layers": [{ "mediaType": LAYER_TYPE, "digest": packed.digest, "size": packed.size }],
        "annotations": {
            ANN_KEY: key.hex,
            ANN_CANONICAL: key.canonical,
            "dev.cove.version": env!("CARGO_PKG_VERSION"),
            "dev.cove.python": config.python_version.clone().unwrap_or_default(),
            "dev.cove.size": packed.content_size.to_string(),
        },
    });
    store.put_manifest(&key.hex, &serde_json::to_vec(&manifest).expect("plain data"))?;
    Ok(Pushed::Uploaded(packed.size))
}

/// After a local build with `push = true`: start `cove push --key K` detached (its own session,
/// output to `logs/push-<key>.log`), so the program never waits for the upload.
pub fn push_in_background(settings: &Settings, key: &str) {
    use std::os::unix::process::CommandExt;
    let cache = Cache::new(&settings.cache_dir);
    let log = cache.log_path(&format!("push-{key}"));
    let spawn = || -> std::io::Result<()> {
        let exe = std::env::current_exe()?;
        let out = std::fs::File::create(&log)?;
        let err = out.try_clone()?;
        let mut cmd = std::process::Command::new(exe);
        cmd.args(["push", "--key", key])
            .current_dir("/")
            .stdin(std::process::Stdio::null())
            .stdout(out)
            .stderr(err)
            .env_remove("VIRTUAL_ENV");
        // Forked once more and the middle process ends at once, so the upload is no child of the
        // program this process becomes (a shim execs Python, which would never reap it).
        // SAFETY: fork, _exit and setsid are async-signal-safe, as code between fork and exec
        // must be.
        unsafe {
            cmd.pre_exec(|| {
                match libc::fork() {
                    -1 => return Err(std::io::Error::last_os_error()),
                    0 => {}
                    _ => libc::_exit(0),
                }
                libc::setsid();
                Ok(())
            });
        }
        cmd.spawn()?.wait().map(drop)
    };
    if let Err(e) = spawn() {
        crate::ui::note(settings.quiet, &format!("could not start the upload to the team cache: {e}"));
    }
}
