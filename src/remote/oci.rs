//! A team cache in an OCI registry (`oci://host[:port]/repository`), spoken to with the
//! distribution spec's endpoints over a blocking HTTP client (`ureq`):
//!
//! - pull: `GET /v2/<repo>/manifests/<tag>`, `GET /v2/<repo>/blobs/<digest>`;
//! - push: `HEAD /v2/<repo>/blobs/<digest>`, `POST /v2/<repo>/blobs/uploads/` then `PUT
//!   <location>?digest=…` (a monolithic upload), `PUT /v2/<repo>/manifests/<tag>`.
//!
//! Auth: `COVE_REMOTE_TOKEN` is sent as a bearer token; otherwise a `401` is answered as its
//! `WWW-Authenticate` asks: `Basic` with the docker credentials file's entry for the host
//! (`$DOCKER_CONFIG/config.json` or `~/.docker/config.json`, `auths.<host>.auth`), `Bearer` by
//! fetching a token from the realm named (with those credentials when there are any, anonymous
//! otherwise). A loopback host is spoken to over plain HTTP, any other over HTTPS.

use std::cell::RefCell;
use std::path::Path;
use std::time::Duration;

use ureq::http::{self, Response};

use super::store::{Fault, Store};

pub const MANIFEST_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";

pub struct Oci {
    url: String,
    base: String,
    host: String,
    repo: String,
    push: bool,
    agent: ureq::Agent,
    /// A blob download may take longer than a call, but never stall longer than this per read.
    timeout: Duration,
    /// The `Authorization` header that worked (or the token given).
    auth: RefCell<Option<String>>,
}

enum Body<'a> {
    None,
    Bytes(&'a [u8], &'a str),
    File(&'a std::fs::File),
}

impl Oci {
    /// `rest` is the url past `oci://`: `host[:port]/repository`.
    pub fn new(url: &str, rest: &str, timeout: Duration, push: bool) -> Oci {
        let (host, repo) = rest.split_once('/').unwrap_or((rest, ""));
        let name = host.rsplit_once(':').map_or(host, |(h, _)| h);
        let loopback = matches!(name, "localhost" | "127.0.0.1" | "[::1]") || name.starts_with("127.");
        let scheme = if loopback { "http" } else { "https" };
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(timeout))
            .timeout_send_request(Some(timeout))
            .timeout_recv_response(Some(timeout))
            .timeout_per_read(Some(timeout))
            .timeout_per_write(Some(timeout))
            .user_agent(format!("cove/{}", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        let token = std::env::var("COVE_REMOTE_TOKEN").ok().filter(|t| !t.is_empty());
        Oci {
            url: url.to_string(),
            base: format!("{scheme}://{host}"),
            host: host.to_string(),
            repo: repo.to_string(),
            push,
            agent,
            timeout,
            auth: RefCell::new(token.map(|t| format!("Bearer {t}"))),
        }
    }

    fn endpoint(&self, tail: &str) -> String {
        format!("{}/v2/{}/{tail}", self.base, self.repo)
    }

    /// One request, answering a `401` once as its challenge asks.
    fn send(&self, method: &str, url: &str, accept: Option<&str>, body: Body) -> Result<Response<ureq::Body>, Fault> {
        let mut retried = false;
        loop {
            let mut b = http::Request::builder().method(method).uri(url);
            if let Some(a) = accept {
                b = b.header("Accept", a);
            }
            if let Some(auth) = self.auth.borrow().as_ref() {
                b = b.header("Authorization", auth.as_str());
            }
            let fault = |e: ureq::Error| Fault(format!("{method} {url}: {e}"));
            let resp = match &body {
                Body::None => self.agent.run(b.body(()).map_err(|e| Fault(e.to_string()))?),
                Body::Bytes(bytes, kind) => {
                    self.agent.run(b.header("Content-Type", *kind).body(*bytes).map_err(|e| Fault(e.to_string()))?)
                }
                Body::File(f) => self.agent.run(
                    b.header("Content-Type", "application/octet-stream").body(*f).map_err(|e| Fault(e.to_string()))?,
                ),
            }
            .map_err(fault)?;
            if resp.status() != 401 || retried {
                return Ok(resp);
            }
            retried = true;
            let challenge =
                resp.headers().get("www-authenticate").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
            let auth = self.answer(&challenge)?;
            *self.auth.borrow_mut() = Some(auth);
        }
    }

    /// The `Authorization` header for a `WWW-Authenticate` challenge.
    fn answer(&self, challenge: &str) -> Result<String, Fault> {
        let basic = docker_auth(&self.host);
        let (scheme, params) = challenge.split_once(' ').unwrap_or((challenge, ""));
        if scheme.eq_ignore_ascii_case("basic") {
            return basic.map(|b| format!("Basic {b}")).ok_or_else(|| {
                Fault(format!(
                    "{} asks for a login and you are not logged in (`docker login {}` saves one in ~/.docker/config.json)",
                    self.host, self.host
                ))
            });
        }
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Err(Fault(format!("{} asks for an unknown kind of login ({scheme})", self.host)));
        }
        let param = |name: &str| challenge_param(params, name);
        let realm =
            param("realm").ok_or_else(|| Fault(format!("{} asks for a token but names no realm", self.host)))?;
        let mut url = url::Url::parse(&realm).map_err(|e| Fault(format!("token realm {realm:?}: {e}")))?;
        {
            let mut q = url.query_pairs_mut();
            if let Some(service) = param("service") {
                q.append_pair("service", &service);
            }
            let actions = if self.push { "pull,push" } else { "pull" };
            q.append_pair("scope", &format!("repository:{}:{actions}", self.repo));
        }
        let mut b = http::Request::builder().method("GET").uri(url.as_str());
        if let Some(basic) = &basic {
            b = b.header("Authorization", format!("Basic {basic}"));
        }
        let mut resp = self
            .agent
            .run(b.body(()).map_err(|e| Fault(e.to_string()))?)
            .map_err(|e| Fault(format!("token from {realm}: {e}")))?;
        if resp.status() != 200 {
            return Err(Fault(format!("{realm} refused a token ({})", resp.status())));
        }
        let text = resp.body_mut().read_to_string().map_err(|e| Fault(format!("token from {realm}: {e}")))?;
        let json: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| Fault(format!("token from {realm}: {e}")))?;
        let token = json.get("token").or_else(|| json.get("access_token")).and_then(|t| t.as_str());
        token.map(|t| format!("Bearer {t}")).ok_or_else(|| Fault(format!("{realm} gave no token")))
    }

    /// `resp` when its status is `want`, else the fault for `what`.
    fn expect(&self, mut resp: Response<ureq::Body>, want: u16, what: &str) -> Result<Response<ureq::Body>, Fault> {
        if resp.status() == want { Ok(resp) } else { Err(self.status_fault(what, &mut resp)) }
    }

    fn status_fault(&self, what: &str, resp: &mut Response<ureq::Body>) -> Fault {
        let status = resp.status();
        let detail = match status.as_u16() {
            401 => " (not logged in: add it to ~/.docker/config.json or set COVE_REMOTE_TOKEN)".to_string(),
            403 => " (not allowed)".to_string(),
            _ => String::new(),
        };
        Fault(format!("{} answered {status}{detail} to {what}", self.host))
    }
}

/// A parameter of a `WWW-Authenticate` challenge: `realm="https://…",service="…"`.
fn challenge_param(params: &str, name: &str) -> Option<String> {
    let mut rest = params;
    while let Some((k, after)) = rest.split_once('=') {
        let k = k.trim().trim_start_matches(',').trim();
        let (value, tail) = match after.strip_prefix('"') {
            Some(quoted) => {
                let end = quoted.find('"')?;
                (&quoted[..end], &quoted[end + 1..])
            }
            None => after.split_once(',').unwrap_or((after, "")),
        };
        if k.eq_ignore_ascii_case(name) {
            return Some(value.to_string());
        }
        rest = tail;
    }
    None
}

/// The base64 `user:password` that `docker login` saved for `host`.
fn docker_auth(host: &str) -> Option<String> {
    let home = || Some(std::path::PathBuf::from(std::env::var_os("HOME")?).join(".docker"));
    let dir =
        std::env::var_os("DOCKER_CONFIG").filter(|v| !v.is_empty()).map(std::path::PathBuf::from).or_else(home)?;
    let text = std::fs::read_to_string(dir.join("config.json")).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    let auths = json.get("auths")?.as_object()?;
    let names = [host.to_string(), format!("https://{host}"), format!("http://{host}"), format!("https://{host}/v1/")];
    names.iter().find_map(|n| auths.get(n)?.get("auth")?.as_str().map(str::to_string))
}

impl Store for Oci {
    fn url(&self) -> &str {
        &self.url
    }

    fn manifest(&self, tag: &str) -> Result<Option<Vec<u8>>, Fault> {
        let url = self.endpoint(&format!("manifests/{tag}"));
        let mut resp = self.send("GET", &url, Some(MANIFEST_TYPE), Body::None)?;
        match resp.status().as_u16() {
            200 => resp.body_mut().read_to_vec().map(Some).map_err(|e| Fault(format!("GET {url}: {e}"))),
            404 => Ok(None),
            _ => Err(self.status_fault("the manifest request", &mut resp)),
        }
    }

    fn blob(&self, digest: &str, _size: u64) -> Result<Box<dyn std::io::Read>, Fault> {
        let url = self.endpoint(&format!("blobs/{digest}"));
        let resp = self.expect(self.send("GET", &url, None, Body::None)?, 200, "the download")?;
        let _ = self.timeout;
        Ok(Box::new(resp.into_body().into_with_config().limit(u64::MAX).reader()))
    }

    fn has_blob(&self, digest: &str) -> Result<bool, Fault> {
        let url = self.endpoint(&format!("blobs/{digest}"));
        let mut resp = self.send("HEAD", &url, None, Body::None)?;
        match resp.status().as_u16() {
            200 => Ok(true),
            404 => Ok(false),
            _ => Err(self.status_fault("a blob check", &mut resp)),
        }
    }

    fn put_blob(&self, digest: &str, file: &Path) -> Result<(), Fault> {
        let start = self.endpoint("blobs/uploads/");
        let resp = self.expect(self.send("POST", &start, None, Body::None)?, 202, "starting an upload")?;
        let location = resp.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
        if location.is_empty() {
            return Err(Fault(format!("{} started an upload without a location", self.host)));
        }
        let mut url = if location.starts_with('/') { format!("{}{location}", self.base) } else { location };
        url.push(if url.contains('?') { '&' } else { '?' });
        url.push_str(&format!("digest={digest}"));
        let f = std::fs::File::open(file).map_err(|e| Fault(format!("cannot read {}: {e}", file.display())))?;
        self.expect(self.send("PUT", &url, None, Body::File(&f))?, 201, "the upload").map(drop)
    }

    fn put_manifest(&self, tag: &str, bytes: &[u8]) -> Result<(), Fault> {
        let url = self.endpoint(&format!("manifests/{tag}"));
        self.expect(self.send("PUT", &url, None, Body::Bytes(bytes, MANIFEST_TYPE))?, 201, "the manifest upload")
            .map(drop)
    }

    fn check(&self, push: bool) -> Result<String, Fault> {
        // A tag no one pushes: reachable and readable when the answer is 404 (or 200).
        self.manifest("cove-doctor-probe")?;
        if !push {
            return Ok("reachable, pull allowed".into());
        }
        let start = self.endpoint("blobs/uploads/");
        let resp = self.expect(self.send("POST", &start, None, Body::None)?, 202, "a trial upload (push = true)")?;
        if let Some(location) = resp.headers().get("location").and_then(|v| v.to_str().ok()) {
            let url = if location.starts_with('/') { format!("{}{location}", self.base) } else { location.to_string() };
            let _ = self.send("DELETE", &url, None, Body::None);
        }
        Ok("reachable, pull and push allowed".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges_are_read() {
        let c = r#"realm="https://ghcr.io/token",service="ghcr.io",scope="repository:a/b:pull""#;
        assert_eq!(challenge_param(c, "realm").as_deref(), Some("https://ghcr.io/token"));
        assert_eq!(challenge_param(c, "service").as_deref(), Some("ghcr.io"));
        assert_eq!(challenge_param(c, "nope"), None);
    }
}
