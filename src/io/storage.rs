//! Object storage by URL: a local path, `file://`, `gs://`, `s3://` or `memory://`.
//!
//! A [`Location`] carries the store it lives in, so whoever reads it (DataFusion, the
//! footer check) needs no other configuration. [`Stores`] builds those stores from the
//! configuration: an emulator endpoint, the credential mode. Credentials come from the
//! standard chains of `object_store` (Google: service-account file, application
//! default credentials, metadata server; AWS: the `AWS_*` environment) and are never
//! logged.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use object_store::ObjectStore;
use object_store::path::Path as ObjectPath;
use serde::Deserialize;
use url::Url;

use crate::error::{Error, Result};

/// Where Parquet files are: a local path or an object-store prefix.
#[derive(Debug, Clone)]
pub enum Location {
    Local(PathBuf),
    Remote(Remote),
}

/// An object-store prefix (`gs://bucket/prefix`) and the store that holds it.
#[derive(Clone)]
pub struct Remote {
    /// `scheme://bucket/` — what DataFusion registers the store under.
    pub base: Url,
    /// The prefix inside the bucket.
    pub prefix: ObjectPath,
    pub store: Arc<dyn ObjectStore>,
}

impl std::fmt::Debug for Remote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.url())
    }
}

impl Remote {
    /// The full URL of the prefix.
    pub fn url(&self) -> String {
        format!("{}{}", self.base, self.prefix)
    }

    /// A location below this one.
    pub fn child(&self, part: &str) -> Remote {
        let mut prefix = self.prefix.clone();
        for p in part.split('/').filter(|p| !p.is_empty()) {
            prefix = prefix.clone().join(p);
        }
        Remote {
            prefix,
            ..self.clone()
        }
    }
}

impl Location {
    /// A location below this one (`features`, `run_id/changes.parquet`).
    pub fn child(&self, part: &str) -> Location {
        match self {
            Location::Local(p) => Location::Local(p.join(part)),
            Location::Remote(r) => Location::Remote(r.child(part)),
        }
    }
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::Local(p) => write!(f, "{}", p.display()),
            Location::Remote(r) => write!(f, "{}", r.url()),
        }
    }
}

impl From<PathBuf> for Location {
    fn from(p: PathBuf) -> Self {
        Location::Local(p)
    }
}

impl From<&PathBuf> for Location {
    fn from(p: &PathBuf) -> Self {
        Location::Local(p.clone())
    }
}

impl From<&Path> for Location {
    fn from(p: &Path) -> Self {
        Location::Local(p.to_path_buf())
    }
}

/// How to reach Google Cloud Storage.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GcsOptions {
    /// Base URL of the service (an emulator on 127.0.0.1); default: Google's.
    pub endpoint: Option<String>,
    /// `google-default` (the standard chain), `none` (emulators only), or the path of a
    /// service-account key file.
    pub credentials: Option<String>,
    /// The host of a non-Google `endpoint` trusted with the Google token (default: none;
    /// tokens go only to `*.googleapis.com`).
    pub send_credentials_to: Option<String>,
}

/// How to reach S3 (or an S3-compatible service).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct S3Options {
    pub endpoint: Option<String>,
    pub region: Option<String>,
    /// Static keys, for S3-compatible services and emulators; in AWS prefer the
    /// standard `AWS_*` environment or an instance role.
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
}

/// The credential modes of [`GcsOptions::credentials`].
#[derive(Debug, Clone, PartialEq)]
pub enum Credentials {
    /// Service-account file, application default credentials, or the metadata server.
    GoogleDefault,
    /// No token at all: only for emulators.
    None,
    /// A service-account key file.
    KeyFile(PathBuf),
}

impl GcsOptions {
    pub fn credentials(&self) -> Result<Credentials> {
        let mode = match self.credentials.as_deref() {
            None | Some("google-default") => Credentials::GoogleDefault,
            Some("none") => Credentials::None,
            Some(path) => Credentials::KeyFile(PathBuf::from(path)),
        };
        if mode == Credentials::None && self.endpoint.is_none() {
            return Err(Error::input(
                "credentials = \"none\" is only for emulators: set the endpoint too, or use google-default",
            ));
        }
        if mode != Credentials::None
            && let Some(endpoint) = &self.endpoint
        {
            token_allowed(endpoint, self.send_credentials_to.as_deref(), "[gcs]")?;
        }
        Ok(mode)
    }
}

/// Builds the store for a URL from the configuration.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Stores {
    pub gcs: GcsOptions,
    pub s3: S3Options,
}

impl Stores {
    /// Parse `text` (a path or URL) into a [`Location`], building its store.
    pub fn locate(&self, text: &str) -> Result<Location> {
        let Some((scheme, _)) = text.split_once("://") else {
            return Ok(Location::Local(PathBuf::from(text)));
        };
        let url = Url::parse(text).map_err(|e| Error::input(format!("`{text}`: {e}")))?;
        let store: Arc<dyn ObjectStore> = match scheme {
            "file" => {
                let path = url
                    .to_file_path()
                    .map_err(|_| Error::input(format!("`{text}`: not a local file URL")))?;
                return Ok(Location::Local(path));
            }
            "gs" => Arc::new(self.gcs_bucket(bucket(&url, text)?)?),
            "s3" => Arc::new(self.s3_bucket(bucket(&url, text)?)?),
            "memory" => Arc::new(object_store::memory::InMemory::new()),
            other => {
                return Err(Error::input(format!(
                    "`{text}`: unsupported scheme {other}:// (use a path, file://, gs://, s3:// or memory://)"
                )));
            }
        };
        let base = Url::parse(&format!(
            "{scheme}://{}/",
            url.host_str().unwrap_or_default()
        ))
        .map_err(|e| Error::input(format!("`{text}`: {e}")))?;
        let prefix = ObjectPath::parse(url.path().trim_matches('/'))
            .map_err(|e| Error::input(format!("`{text}`: {e}")))?;
        Ok(Location::Remote(Remote {
            base,
            prefix,
            store,
        }))
    }

    /// A GCS client for `bucket`.
    pub fn gcs_bucket(&self, bucket: &str) -> Result<object_store::gcp::GoogleCloudStorage> {
        use object_store::gcp::{GcpCredential, GoogleCloudStorageBuilder};
        let mut builder = match self.gcs.credentials()? {
            Credentials::GoogleDefault => GoogleCloudStorageBuilder::from_env(),
            Credentials::KeyFile(path) => GoogleCloudStorageBuilder::new()
                .with_service_account_path(path.display().to_string()),
            Credentials::None => GoogleCloudStorageBuilder::new().with_credentials(Arc::new(
                object_store::StaticCredentialProvider::new(GcpCredential {
                    bearer: String::new(),
                }),
            )),
        }
        .with_bucket_name(bucket);
        if let Some(endpoint) = &self.gcs.endpoint {
            builder = builder
                .with_base_url(endpoint)
                .with_client_options(client_options(endpoint));
        }
        builder
            .build()
            .map_err(|e| Error::input(format!("gs://{bucket}: cannot set up the client: {e}")))
    }

    fn s3_bucket(&self, bucket: &str) -> Result<object_store::aws::AmazonS3> {
        use object_store::aws::AmazonS3ConfigKey;
        let mut builder = object_store::aws::AmazonS3Builder::from_env().with_bucket_name(bucket);
        if let Some(region) = &self.s3.region {
            builder = builder.with_region(region);
        }
        if let (Some(id), Some(secret)) = (&self.s3.access_key_id, &self.s3.secret_access_key) {
            builder = builder
                .with_access_key_id(id)
                .with_secret_access_key(secret);
        }
        // Without keys the client would ask the instance metadata service; next to an
        // emulator that is never right.
        let keyless = builder
            .get_config_value(&AmazonS3ConfigKey::AccessKeyId)
            .is_none();
        if keyless && self.s3.endpoint.as_deref().is_some_and(is_loopback) {
            return Err(Error::input(format!(
                "s3://{bucket}: a loopback endpoint needs access_key_id and secret_access_key in [s3]"
            )));
        }
        if let Some(endpoint) = &self.s3.endpoint {
            builder = builder
                .with_endpoint(endpoint)
                .with_client_options(client_options(endpoint));
        }
        builder
            .build()
            .map_err(|e| Error::input(format!("s3://{bucket}: cannot set up the client: {e}")))
    }
}

/// Google's own endpoints (`https://…googleapis.com`): the only hosts a Google token is
/// sent to unless the operator names another.
pub fn is_google(endpoint: &str) -> bool {
    Url::parse(endpoint).is_ok_and(|u| {
        u.scheme() == "https"
            && u.host_str()
                .is_some_and(|h| h == "googleapis.com" || h.ends_with(".googleapis.com"))
    })
}

/// A Google token may go to `endpoint`: one of Google's, or the host the operator named
/// in `send_credentials_to` of the `section`.
pub fn token_allowed(endpoint: &str, trusted: Option<&str>, section: &str) -> Result<()> {
    if is_google(endpoint) {
        return Ok(());
    }
    let host = Url::parse(endpoint)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_default();
    if trusted.is_some_and(|t| !host.is_empty() && t == host) {
        return Ok(());
    }
    Err(Error::input(format!(
        "{section} endpoint {endpoint}: the Google access token would be sent there, and tokens \
         go only to Google's endpoints (*.googleapis.com). For an emulator use credentials = \"none\" \
         in [gcs]; to trust this host with the token, add send_credentials_to = \"{host}\" to {section}"
    )))
}

/// Plain HTTP is allowed only for a loopback endpoint (an emulator).
fn client_options(endpoint: &str) -> object_store::ClientOptions {
    object_store::ClientOptions::new().with_allow_http(is_loopback(endpoint))
}

/// True for `http://127.0.0.1…` and `http://localhost…`.
pub fn is_loopback(endpoint: &str) -> bool {
    Url::parse(endpoint).is_ok_and(|u| {
        matches!(
            u.host(),
            Some(url::Host::Ipv4(ip)) if ip.is_loopback()
        ) || u.host_str() == Some("localhost")
    })
}

fn bucket<'a>(url: &'a Url, text: &str) -> Result<&'a str> {
    url.host_str()
        .filter(|b| !b.is_empty())
        .ok_or_else(|| Error::input(format!("`{text}`: no bucket name")))
}

/// A failed object-store call, as an external error (exit 3).
pub fn store_error(context: impl Into<String>) -> impl FnOnce(object_store::Error) -> Error {
    let context = context.into();
    move |source| Error::Remote {
        context,
        message: source.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_file_urls_are_local() {
        let stores = Stores::default();
        assert!(
            matches!(stores.locate("a/b").unwrap(), Location::Local(p) if p == Path::new("a/b"))
        );
        assert!(
            matches!(stores.locate("file:///tmp/x").unwrap(), Location::Local(p) if p == Path::new("/tmp/x"))
        );
    }

    #[test]
    fn remote_urls_keep_bucket_and_prefix() {
        let stores = Stores::default();
        let Location::Remote(r) = stores.locate("memory://bucket/a/b/").unwrap() else {
            panic!("memory:// is remote");
        };
        assert_eq!(r.base.as_str(), "memory://bucket/");
        assert_eq!(r.prefix.as_ref(), "a/b");
        assert_eq!(
            r.child("run/features").url(),
            "memory://bucket/a/b/run/features"
        );
    }

    #[test]
    fn unknown_schemes_and_missing_buckets_are_input_errors() {
        let stores = Stores::default();
        let e = stores.locate("ftp://x/y").unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("unsupported scheme ftp://"), "{e}");
        let gcs = Stores {
            gcs: GcsOptions {
                credentials: Some("none".into()),
                ..Default::default()
            },
            ..Default::default()
        };
        let e = gcs.locate("gs://bucket/x").unwrap_err();
        assert!(e.to_string().contains("only for emulators"), "{e}");
    }

    #[test]
    fn only_loopback_endpoints_may_use_plain_http() {
        assert!(is_loopback("http://127.0.0.1:4443"));
        assert!(is_loopback("http://localhost:9050/x"));
        assert!(!is_loopback("http://10.0.0.1:80"));
        assert!(!is_loopback("https://storage.googleapis.com"));
    }
}
