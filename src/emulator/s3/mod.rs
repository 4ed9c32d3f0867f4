//! Amazon S3 (REST): buckets and objects for any S3 client (aws-sdk-*, boto3, the AWS CLI),
//! and the destination Firehose delivers to ([`S3::deliver`]).
//!
//! Addressing. A request names its bucket one of two ways:
//! - path-style, `/bucket/key`;
//! - virtual-hosted, `Host: bucket.<endpoint>` and path `/key`.
//!
//! The emulator's own host may be an IP, `localhost`, or any DNS name (a Kubernetes service
//! name, `s3.localhost.localstack.cloud`), so a Host is read as virtual-hosted only when it is
//! not an IP, has more than one label, and its first label names a bucket: either a bucket
//! that exists, or any name when the rest of the Host is an S3-style endpoint (it starts with
//! `s3.`/`s3-`, or is or starts with `localhost`), and the first label is not itself `s3`. A
//! Host read as virtual-hosted only because a bucket shares its first label still serves
//! path-style requests whose first path segment is an existing bucket, so that a bucket named
//! like the emulator's own service name does not capture the traffic of the others.
//! `bucket.localhost:4566` and `bucket.s3.localhost.localstack.cloud:4566` are virtual-hosted;
//! `127.0.0.1:4566`, `localhost:4566`, `s3.localhost.localstack.cloud:4566` and
//! `emulator.default.svc:4566` are path-style.
//!
//! The modules: `buckets` (bucket operations), `config` (bucket tags and the answers for
//! configurations never set), `objects` (single-object operations), `list`
//! (ListObjects v1 and v2), `multipart`, `tagging`, `conditions` (ranges and preconditions),
//! `payload` (aws-chunked bodies and integrity checks), `checksum`, `state` (memory),
//! `durable` (disk), `xml` and `errors` (dates come from
//! `emulator::dates`).

mod buckets;
mod checksum;
mod conditions;
mod config;
mod durable;
mod errors;
mod list;
mod multipart;
mod objects;
mod payload;
mod state;
mod tagging;
mod xml;

use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderValue, Method, StatusCode};
use percent_encoding::percent_decode_str;

use super::clock::Clock;
use super::dispatch::Ctx;
use super::error::AwsError;
use super::rest::{RestRequest, RestResponse};
use super::storage::{Storage, StorageError};
use errors::{S3Error, S3Result};
use state::{Bucket, Buckets, Object, ObjectMeta};

/// Why a `Host` was read as virtual-hosted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Addressed {
    /// The rest of the Host is an S3-style endpoint (`s3.`, `localhost`).
    ByEndpoint,
    /// Only because its first label is the name of an existing bucket.
    ByExistingBucket,
}

/// The emulated S3.
pub struct S3 {
    clock: Arc<Clock>,
    durable: Option<durable::Durable>,
    buckets: Buckets,
}

/// Decides, under `--iam-enforce`, whether the caller may delete the object with this key
/// (decoded) from the request's bucket: `DeleteObjects` asks it once per key, as AWS checks
/// `s3:DeleteObject` per key and reports each refusal in its answer.
pub type DeleteCheck = dyn Fn(&str) -> bool + Send + Sync;

/// One request, with its bucket, key and query decoded.
pub(crate) struct Call<'a> {
    /// Who is calling.
    pub ctx: Ctx,
    /// The request.
    pub req: &'a RestRequest,
    /// The bucket (empty for service-level requests such as ListBuckets).
    pub bucket: String,
    /// The object key (empty for bucket-level requests).
    pub key: String,
    /// Query parameters, decoded, in order.
    pub query: Vec<(String, String)>,
    /// Per-key delete permission (`DeleteObjects` under `--iam-enforce`).
    pub may_delete: Option<&'a DeleteCheck>,
}

impl Call<'_> {
    /// The value of query parameter `name` (empty for a bare `?name`).
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// True when the query holds `name`.
    pub fn has(&self, name: &str) -> bool {
        self.param(name).is_some()
    }

    /// The value of header `name`.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.req.header(name)
    }
}

impl S3 {
    /// The service, recovering what `storage` holds.
    pub fn new(clock: Arc<Clock>, storage: Option<Arc<Storage>>) -> Result<S3, StorageError> {
        let durable = storage.map(durable::Durable::open).transpose()?;
        let buckets = Buckets::default();
        if let Some(durable) = &durable {
            for recovered in durable.load()? {
                let bucket = Bucket::new(recovered.name, recovered.info);
                {
                    let mut objects = bucket.objects.write();
                    for (key, object) in recovered.objects {
                        objects.insert(key, Arc::new(object));
                    }
                    bucket.uploads.lock().extend(recovered.uploads);
                    *bucket.tags.write() = recovered.tags;
                }
                let _ = buckets.insert(Arc::new(bucket));
            }
        }
        Ok(S3 {
            clock,
            durable,
            buckets,
        })
    }

    /// Answers one S3 request.
    pub fn handle(&self, ctx: &Ctx, req: &RestRequest) -> RestResponse {
        self.handle_checked(ctx, req, None)
    }

    /// Answers one S3 request whose `DeleteObjects` keys are each allowed or refused by
    /// `may_delete`.
    pub fn handle_checked(
        &self,
        ctx: &Ctx,
        req: &RestRequest,
        may_delete: Option<&DeleteCheck>,
    ) -> RestResponse {
        let head = req.method == Method::HEAD;
        match self
            .call(ctx, req)
            .map(|call| Call { may_delete, ..call })
            .and_then(|call| self.check_region(&call).map(|()| call))
            .and_then(|call| self.dispatch(&call))
        {
            Ok(answer) => answer,
            Err(e) => {
                if e.status >= 500 {
                    tracing::warn!(code = e.code, message = %e.message, "S3 request failed");
                }
                e.response(&req.request_id, head)
            }
        }
    }

    /// Stores an object the way a service delivery does (no HTTP request, no signature), as
    /// `PutObject` would: ETag, Last-Modified, durable when a data dir is set.
    /// `NoSuchBucket` (AwsError with code "NoSuchBucket", status 404) when the bucket is missing.
    pub fn deliver(
        &self,
        bucket: &str,
        key: &str,
        body: Bytes,
        content_type: Option<&str>,
    ) -> Result<(), AwsError> {
        let found = self.buckets.get(bucket).ok_or_else(|| AwsError {
            code: "NoSuchBucket",
            message: "The specified bucket does not exist".to_owned(),
            status: 404,
        })?;
        let meta = ObjectMeta {
            content_type: content_type.map(str::to_owned),
            ..ObjectMeta::default()
        };
        let md5 = objects::md5_of(&body);
        self.store_object(
            &found,
            key,
            meta,
            payload::Payload {
                body,
                md5,
                checksum: None,
            },
            &Default::default(),
        )
        .map(|_| ())
        .map_err(|e| AwsError {
            code: e.code,
            message: e.message,
            status: e.status,
        })
    }

    /// A request signed for a region that does not exist gets S3's answer:
    /// `AuthorizationHeaderMalformed`, naming the region expected (the bucket's, or us-east-1
    /// when no existing bucket is addressed). No state is kept for such a region (see the
    /// Kinesis module doc).
    fn check_region(&self, call: &Call<'_>) -> S3Result<()> {
        let region = call.ctx.region.as_str();
        if super::kinesis::is_region(region) {
            return Ok(());
        }
        let expected = self
            .buckets
            .get(&call.bucket)
            .map_or_else(|| "us-east-1".to_owned(), |b| b.info.region.clone());
        Err(S3Error::new(
            400,
            "AuthorizationHeaderMalformed",
            format!(
                "The authorization header is malformed; the region '{region}' is wrong; expecting '{expected}'"
            ),
        )
        .with("Region", &expected))
    }

    /// True when `bucket` exists.
    pub fn bucket_exists(&self, bucket: &str) -> bool {
        self.buckets.get(bucket).is_some()
    }

    /// True when `bucket` holds an object at `key` (Managed Service for Apache Flink checks an
    /// application's code location).
    pub fn object_exists(&self, bucket: &str, key: &str) -> bool {
        self.buckets
            .get(bucket)
            .is_some_and(|b| b.get(key).is_some())
    }

    /// The bytes of the object at `key` in `bucket` and the bucket's owning account; `None`
    /// when there is no such object (Managed Service for Apache Flink reads an application's
    /// JAR at start).
    pub fn object_body(&self, bucket: &str, key: &str) -> Option<(String, Bytes)> {
        let b = self.buckets.get(bucket)?;
        let object = b.get(key)?;
        Some((b.info.owner.clone(), object.body.clone()))
    }

    /// The current time in whole seconds (as epoch milliseconds): S3 keeps times to the
    /// second, so listings show `.000Z` and HTTP dates and XML dates agree.
    fn now_ms(&self) -> i64 {
        self.clock.now_ms().div_euclid(1000) * 1000
    }

    /// Decodes the bucket, key and query of `req`.
    fn call<'a>(&self, ctx: &'a Ctx, req: &'a RestRequest) -> S3Result<Call<'a>> {
        let path = percent_decode_str(&req.path)
            .decode_utf8()
            .map_err(|_| S3Error::new(400, "InvalidURI", "Couldn't parse the specified URI."))?;
        let (bucket, key) = self.address(req.header("host"), &path);
        let query: Vec<(String, String)> = form_urlencoded::parse(req.query.as_bytes())
            .map(|(n, v)| (n.into_owned(), v.into_owned()))
            .collect();
        let ctx = ctx.clone();
        Ok(Call {
            ctx,
            req,
            bucket,
            key,
            query,
            may_delete: None,
        })
    }

    /// The bucket and key (either may be empty) that a request for the percent-decoded `path`
    /// with `host` addresses, virtual-hosted or path-style by the rule in the module doc.
    /// IAM enforcement asks this too, so that the resource a policy is checked against is the
    /// one S3 then serves.
    pub fn address(&self, host: Option<&str>, path: &str) -> (String, String) {
        let path = path.strip_prefix('/').unwrap_or(path);
        let path_style = || match path.split_once('/') {
            Some((bucket, key)) => (bucket.to_owned(), key.to_owned()),
            None => (path.to_owned(), String::new()),
        };
        match self.virtual_host_bucket(host) {
            // A host read as virtual-hosted only because a bucket shares its first label (a
            // bucket named like the emulator's own service) still serves path-style requests
            // whose first path segment is an existing bucket.
            Some((_, Addressed::ByExistingBucket))
                if !path_style().0.is_empty() && self.bucket_exists(&path_style().0) =>
            {
                path_style()
            }
            Some((bucket, _)) => (bucket, path.to_owned()),
            None => path_style(),
        }
    }

    /// The bucket a virtual-hosted `Host` names (see the module doc for the rule), and why.
    fn virtual_host_bucket(&self, host: Option<&str>) -> Option<(String, Addressed)> {
        let host = host?;
        if host.starts_with('[') {
            return None;
        }
        let name = host
            .rsplit_once(':')
            .map_or(host, |(h, _)| h)
            .to_ascii_lowercase();
        if name.parse::<std::net::Ipv4Addr>().is_ok() {
            return None;
        }
        let (first, rest) = name.split_once('.')?;
        if first.is_empty() || rest.is_empty() {
            return None;
        }
        let s3_endpoint = rest.starts_with("s3.")
            || rest.starts_with("s3-")
            || rest == "localhost"
            || rest.starts_with("localhost.");
        if s3_endpoint && first != "s3" && !first.starts_with("s3-") {
            Some((first.to_owned(), Addressed::ByEndpoint))
        } else if self.bucket_exists(first) {
            Some((first.to_owned(), Addressed::ByExistingBucket))
        } else {
            None
        }
    }

    /// Runs the operation `call` names.
    fn dispatch(&self, call: &Call<'_>) -> S3Result<RestResponse> {
        let method = &call.req.method;
        if call.bucket.is_empty() {
            return match *method {
                Method::GET => self.list_buckets(call),
                _ => Err(method_not_allowed(method, "SERVICE")),
            };
        }
        if call.key.is_empty() {
            return self.bucket_operation(call);
        }
        self.object_operation(call)
    }

    fn bucket_operation(&self, call: &Call<'_>) -> S3Result<RestResponse> {
        let sub = subresource(call, BUCKET_SUBRESOURCES);
        match (&call.req.method, sub) {
            (&Method::PUT, None) => self.create_bucket(call),
            (&Method::HEAD, None) => self.head_bucket(call),
            (&Method::DELETE, None) => self.delete_bucket(call),
            (&Method::GET, Some("location")) => self.get_bucket_location(call),
            (&Method::GET, None) if call.param("list-type") == Some("2") => {
                self.list_objects_v2(call)
            }
            (&Method::GET, None) => self.list_objects_v1(call),
            (&Method::POST, Some("delete")) => self.delete_objects(call),
            (&Method::GET, Some("uploads")) => self.list_multipart_uploads(call),
            (&Method::GET, Some("versions")) => self.list_object_versions(call),
            (&Method::PUT, Some("tagging")) => self.put_bucket_tagging(call),
            (&Method::GET, Some("tagging")) => self.get_bucket_tagging(call),
            (&Method::DELETE, Some("tagging")) => self.delete_bucket_tagging(call),
            (&Method::GET, Some(sub)) if config::DEFAULTS.contains(&sub) => {
                self.bucket_configuration(call, sub)
            }
            (method, Some(sub)) => Err(S3Error::not_implemented(&operation_name(
                method, "Bucket", sub,
            ))),
            (method, None) => Err(method_not_allowed(method, "BUCKET")),
        }
    }

    fn object_operation(&self, call: &Call<'_>) -> S3Result<RestResponse> {
        let sub = subresource(call, OBJECT_SUBRESOURCES);
        let copy = call.header("x-amz-copy-source").is_some();
        match (&call.req.method, sub) {
            (&Method::PUT, None) if copy => self.copy_object(call),
            (&Method::PUT, None) => self.put_object(call),
            (&Method::GET, None) => self.get_object(call, false),
            (&Method::HEAD, None) => self.get_object(call, true),
            (&Method::DELETE, None) => self.delete_object(call),
            (&Method::PUT, Some("tagging")) => self.put_object_tagging(call),
            (&Method::GET, Some("tagging")) => self.get_object_tagging(call),
            (&Method::DELETE, Some("tagging")) => self.delete_object_tagging(call),
            (&Method::GET, Some("acl")) => self.get_object_acl(call),
            (&Method::POST, Some("uploads")) => self.create_multipart_upload(call),
            (&Method::PUT, Some("uploadId")) if copy => self.upload_part_copy(call),
            (&Method::PUT, Some("uploadId")) => self.upload_part(call),
            (&Method::POST, Some("uploadId")) => self.complete_multipart_upload(call),
            (&Method::DELETE, Some("uploadId")) => self.abort_multipart_upload(call),
            (&Method::GET, Some("uploadId")) => self.list_parts(call),
            (method, Some(sub)) => Err(S3Error::not_implemented(&operation_name(
                method, "Object", sub,
            ))),
            (method, None) => Err(method_not_allowed(method, "OBJECT")),
        }
    }

    /// The bucket `call` names, when it exists.
    fn bucket(&self, call: &Call<'_>) -> S3Result<Arc<Bucket>> {
        self.buckets
            .get(&call.bucket)
            .ok_or_else(|| S3Error::no_such_bucket(&call.bucket))
    }

    /// Writes an object: stored (durably when there is a data dir) then visible, if
    /// `condition` holds. Computes the ETag from the payload's MD5, and a CRC64NVME checksum
    /// when it carries none.
    fn store_object(
        &self,
        bucket: &Bucket,
        key: &str,
        mut meta: ObjectMeta,
        payload: payload::Payload,
        condition: &conditions::WriteCondition,
    ) -> S3Result<Arc<Object>> {
        let payload::Payload {
            body,
            md5,
            checksum,
        } = payload;
        meta.etag = format!("\"{}\"", hex(&md5));
        meta.checksum = Some(checksum.unwrap_or_else(|| checksum::Checksum {
            algorithm: checksum::Algorithm::Crc64Nvme,
            value: checksum::Algorithm::Crc64Nvme.encode(&body),
            composite: false,
        }));
        let mut object = Object { meta, body };
        let writing = bucket.write_keys(&[key])?;
        condition.check(
            key,
            bucket.get(key).as_deref().map(|o| o.meta.etag.as_str()),
        )?;
        object.meta.last_modified_ms = self.now_ms();
        if let Some(durable) = &self.durable {
            durable.put_object(&bucket.name, key, &object)?;
        }
        let object = Arc::new(object);
        bucket
            .objects
            .write()
            .insert(key.to_owned(), object.clone());
        drop(writing);
        Ok(object)
    }
}

/// Query parameters that select a bucket sub-resource (another operation than the plain
/// method's).
const BUCKET_SUBRESOURCES: &[&str] = &[
    "location",
    "delete",
    "uploads",
    "acl",
    "policy",
    "policyStatus",
    "cors",
    "lifecycle",
    "versioning",
    "versions",
    "website",
    "tagging",
    "notification",
    "encryption",
    "logging",
    "replication",
    "ownershipControls",
    "publicAccessBlock",
    "object-lock",
    "accelerate",
    "requestPayment",
    "analytics",
    "metrics",
    "inventory",
    "intelligent-tiering",
    "metadataTable",
    "session",
];

/// Query parameters that select an object sub-resource.
const OBJECT_SUBRESOURCES: &[&str] = &[
    "uploads",
    "uploadId",
    "tagging",
    "acl",
    "retention",
    "legal-hold",
    "torrent",
    "restore",
    "select",
    "attributes",
    "renameObject",
];

fn subresource(call: &Call<'_>, known: &'static [&'static str]) -> Option<&'static str> {
    known.iter().copied().find(|s| call.has(s))
}

/// The S3 operation name of `method` on a sub-resource, for `NotImplemented` messages:
/// `GET ?versioning` on a bucket is `GetBucketVersioning`.
fn operation_name(method: &Method, target: &str, sub: &str) -> String {
    let verb = match *method {
        Method::GET | Method::HEAD => "Get",
        Method::PUT => "Put",
        Method::DELETE => "Delete",
        _ => "Post",
    };
    let mut name = format!("{verb}{target}");
    for word in sub.split('-') {
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            name.push(first.to_ascii_uppercase());
            name.push_str(chars.as_str());
        }
    }
    name
}

/// `MethodNotAllowed` (405) for `method` on a resource of `kind`.
fn method_not_allowed(method: &Method, kind: &str) -> S3Error {
    S3Error::new(
        405,
        "MethodNotAllowed",
        "The specified method is not allowed against this resource.",
    )
    .with("Method", method.as_str())
    .with("ResourceType", kind)
}

/// Lowercase hex of `bytes`.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The canonical user ID S3 shows as the owner of `account`'s buckets and objects.
fn owner_id(account: &str) -> String {
    use sha2::Digest;
    hex(&sha2::Sha256::digest(
        format!("s3-owner:{account}").as_bytes(),
    ))
}

/// An answer with `status`, no body, and `headers`.
fn empty(status: StatusCode) -> RestResponse {
    RestResponse::new(status, Bytes::new())
}

/// An XML answer (200) with `body` after the XML declaration.
fn xml_ok(body: String) -> RestResponse {
    RestResponse::xml(StatusCode::OK, format!("{}{body}", xml::DECL))
}

/// Sets header `name` to `value` when `value` can be a header value (UTF-8 beyond ASCII
/// is sent as the raw bytes, as S3 does for metadata).
fn set_header(response: &mut RestResponse, name: &'static str, value: &str) {
    if let Ok(value) = HeaderValue::from_bytes(value.as_bytes()) {
        response.headers.insert(name, value);
    }
}

/// An S3 XML error answer for `error` (also used for failed signature checks, whose
/// JSON-RPC codes are mapped to S3's: `SignatureDoesNotMatch`, `InvalidAccessKeyId`,
/// `AccessDenied`...).
pub fn error_response(error: &AwsError, request_id: &str) -> RestResponse {
    S3Error::from(error.clone()).response(request_id, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deliver_stores_like_put_object_and_needs_the_bucket() {
        let s3 = S3::new(Arc::new(Clock::default()), None).unwrap();
        assert!(!s3.bucket_exists("dest"));
        let missing = s3
            .deliver("dest", "k", Bytes::from_static(b"x"), None)
            .unwrap_err();
        assert_eq!((missing.code, missing.status), ("NoSuchBucket", 404));
        s3.buckets
            .insert(Arc::new(Bucket::new(
                "dest".to_owned(),
                state::BucketInfo {
                    owner: "000000000000".to_owned(),
                    region: "us-east-1".to_owned(),
                    created_ms: 0,
                },
            )))
            .unwrap();
        assert!(s3.bucket_exists("dest"));
        s3.deliver(
            "dest",
            "2026/01/01/batch",
            Bytes::from_static(b"abc"),
            Some("application/json"),
        )
        .unwrap();
        let object = s3
            .buckets
            .get("dest")
            .unwrap()
            .get("2026/01/01/batch")
            .unwrap();
        assert_eq!(&object.body[..], b"abc");
        assert_eq!(object.meta.etag, "\"900150983cd24fb0d6963f7d28e17f72\"");
        assert_eq!(
            object.meta.content_type.as_deref(),
            Some("application/json")
        );
    }

    fn ctx() -> Ctx {
        Ctx {
            account: "000000000000".to_owned(),
            region: "us-east-1".to_owned(),
        }
    }

    fn request(method: Method, path: &str, body: &'static [u8]) -> RestRequest {
        RestRequest {
            method,
            path: path.to_owned(),
            query: String::new(),
            headers: http::HeaderMap::new(),
            body: Bytes::from_static(body),
            request_id: "req".to_owned(),
        }
    }

    /// An S3 stored in a fresh data directory (kept alive by the returned guard).
    fn durable_s3() -> (Arc<S3>, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let storage = Arc::new(Storage::open(dir.path()).unwrap());
        let s3 = Arc::new(S3::new(Arc::new(Clock::default()), Some(storage)).unwrap());
        (s3, dir)
    }

    /// Sets the hook run before each commit of `s3`'s store.
    fn before_commit(s3: &S3, hook: durable::CommitHook) {
        *s3.durable.as_ref().unwrap().before_commit.lock() = Some(hook);
    }

    #[test]
    fn a_bucket_is_stored_before_it_is_visible_and_never_visible_when_storing_fails() {
        let (s3, _dir) = durable_s3();
        let seen = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let racing = Arc::new(parking_lot::Mutex::new(None));
        let weak = Arc::downgrade(&s3);
        let (observed, raced) = (seen.clone(), racing.clone());
        before_commit(
            &s3,
            Arc::new(move || {
                let s3 = weak.upgrade().unwrap();
                observed.store(
                    s3.bucket_exists("bucket-one"),
                    std::sync::atomic::Ordering::SeqCst,
                );
                // A second CreateBucket of the name meanwhile is told to try again.
                let answer = s3.handle(&ctx(), &request(Method::PUT, "/bucket-one", b""));
                *raced.lock() = Some((answer.status, answer.body));
                Err(S3Error::internal("the disk is full"))
            }),
        );
        let answer = s3.handle(&ctx(), &request(Method::PUT, "/bucket-one", b""));
        assert_eq!(
            answer.status,
            StatusCode::INTERNAL_SERVER_ERROR,
            "{answer:?}"
        );
        assert!(
            !seen.load(std::sync::atomic::Ordering::SeqCst),
            "the bucket was visible before it was stored"
        );
        let (status, body) = racing.lock().take().unwrap();
        assert_eq!(status, StatusCode::CONFLICT);
        assert!(
            String::from_utf8_lossy(&body).contains("<Code>OperationAborted</Code>"),
            "{body:?}"
        );
        assert!(!s3.bucket_exists("bucket-one"));
        // Once the store works again the name is free.
        *s3.durable.as_ref().unwrap().before_commit.lock() = None;
        let answer = s3.handle(&ctx(), &request(Method::PUT, "/bucket-one", b""));
        assert_eq!(answer.status, StatusCode::OK);
        assert!(s3.bucket_exists("bucket-one"));
    }

    #[test]
    fn a_slow_store_holds_back_only_the_writes_of_its_own_key() {
        use std::sync::mpsc;
        use std::time::Duration;
        let (s3, dir) = durable_s3();
        let put = |s3: &S3, key: &str, body: &'static [u8]| {
            s3.handle(
                &ctx(),
                &request(Method::PUT, &format!("/bucket-one/{key}"), body),
            )
            .status
        };
        assert_eq!(
            s3.handle(&ctx(), &request(Method::PUT, "/bucket-one", b""))
                .status,
            StatusCode::OK
        );
        // The first commit from now on waits until released.
        let (entered_tx, entered) = mpsc::channel::<()>();
        let (release, release_rx) = mpsc::channel::<()>();
        let release_rx = parking_lot::Mutex::new(release_rx);
        let first = std::sync::atomic::AtomicBool::new(true);
        before_commit(
            &s3,
            Arc::new(move || {
                if first.swap(false, std::sync::atomic::Ordering::SeqCst) {
                    entered_tx.send(()).unwrap();
                    let _ = release_rx.lock().recv_timeout(Duration::from_secs(20));
                }
                Ok(())
            }),
        );
        let slow = {
            let s3 = s3.clone();
            std::thread::spawn(move || put(&s3, "a", b"first"))
        };
        entered.recv_timeout(Duration::from_secs(10)).unwrap();
        // Not acknowledged, not stored: not visible either.
        let head = s3.handle(&ctx(), &request(Method::HEAD, "/bucket-one/a", b""));
        assert_eq!(head.status, StatusCode::NOT_FOUND);
        // Another key of the bucket is written meanwhile.
        let (done_tx, done) = mpsc::channel();
        let other = {
            let s3 = s3.clone();
            std::thread::spawn(move || done_tx.send(put(&s3, "b", b"other")).unwrap())
        };
        assert_eq!(
            done.recv_timeout(Duration::from_secs(5)),
            Ok(StatusCode::OK),
            "a write of another key waited for the slow store"
        );
        // A second write of the same key waits for the first, so it is the one that stays.
        let (second_tx, second) = mpsc::channel();
        let same = {
            let s3 = s3.clone();
            std::thread::spawn(move || second_tx.send(put(&s3, "a", b"second")).unwrap())
        };
        assert!(second.recv_timeout(Duration::from_millis(300)).is_err());
        release.send(()).unwrap();
        assert_eq!(slow.join().unwrap(), StatusCode::OK);
        assert_eq!(
            second.recv_timeout(Duration::from_secs(10)),
            Ok(StatusCode::OK)
        );
        let body = |s3: &S3, key: &str| {
            s3.buckets
                .get("bucket-one")
                .unwrap()
                .get(key)
                .unwrap()
                .body
                .clone()
        };
        assert_eq!(&body(&s3, "a")[..], b"second");
        other.join().unwrap();
        same.join().unwrap();
        drop(s3);
        let storage = Arc::new(Storage::open(dir.path()).unwrap());
        let reopened = S3::new(Arc::new(Clock::default()), Some(storage)).unwrap();
        assert_eq!(&body(&reopened, "a")[..], b"second");
        assert_eq!(&body(&reopened, "b")[..], b"other");
    }

    #[test]
    fn virtual_hosted_addressing_rule() {
        let s3 = S3::new(Arc::new(Clock::default()), None).unwrap();
        let table = [
            ("bucket.localhost:4566", Some("bucket")),
            ("bucket.s3.localhost.localstack.cloud:4566", Some("bucket")),
            ("bucket.s3.us-east-1.amazonaws.com", Some("bucket")),
            ("127.0.0.1:4566", None),
            ("localhost:4566", None),
            ("s3.localhost.localstack.cloud:4566", None),
            ("emulator.default.svc:4566", None),
            ("[::1]:4566", None),
        ];
        for (host, expected) in table {
            assert_eq!(
                s3.virtual_host_bucket(Some(host))
                    .map(|(b, _)| b)
                    .as_deref(),
                expected,
                "{host}"
            );
        }
    }

    /// Requests assembled from fragments of real ones, in random combinations: every one
    /// gets an answer (an error is fine), none panics.
    #[test]
    fn arbitrary_requests_never_panic() {
        let s3 = S3::new(Arc::new(Clock::default()), None).unwrap();
        let ctx = Ctx {
            account: "000000000000".to_owned(),
            region: "us-east-1".to_owned(),
        };
        let methods = [
            Method::GET,
            Method::PUT,
            Method::POST,
            Method::DELETE,
            Method::HEAD,
            Method::PATCH,
        ];
        let paths = [
            "/",
            "/fuzz",
            "/fuzz/",
            "/fuzz/k",
            "/fuzz/a/b%2F%ff",
            "/%00",
            "//x",
        ];
        let queries = [
            "",
            "uploads",
            "uploadId=x&partNumber=1",
            "uploadId=x&partNumber=99999",
            "tagging",
            "delete",
            "list-type=2&max-keys=1&delimiter=/&continuation-token=%%%",
            "location",
            "partNumber=2",
            "versioning",
            "marker=z&encoding-type=url",
        ];
        let headers: [(&str, &str); 12] = [
            ("range", "bytes=-"),
            ("range", "bytes=3-1"),
            ("content-md5", "===="),
            ("x-amz-content-sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER"),
            ("content-encoding", "aws-chunked"),
            ("x-amz-checksum-crc32", "!!"),
            ("x-amz-copy-source", "/fuzz/k?versionId=1"),
            ("x-amz-copy-source-range", "bytes=0-99999"),
            ("if-match", "*"),
            ("if-none-match", "*"),
            ("x-amz-tagging", "%zz=1&=&a"),
            ("host", "fuzz.localhost:1"),
        ];
        let bodies: [&[u8]; 6] = [
            b"",
            b"<CreateBucketConfiguration><LocationConstraint>x</LocationConstraint></CreateBucketConfiguration>",
            b"<Delete><Object><Key>k</Key></Object></Delete>",
            b"<CompleteMultipartUpload><Part><PartNumber>1</PartNumber></Part></CompleteMultipartUpload>",
            b"ffffffff\r\nab",
            b"0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n",
        ];
        let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        for i in 0..3000 {
            let mut map = http::HeaderMap::new();
            for _ in 0..next(4) {
                let (name, value) = headers[next(headers.len())];
                map.insert(name, HeaderValue::from_static(value));
            }
            let req = RestRequest {
                method: methods[next(methods.len())].clone(),
                path: paths[next(paths.len())].to_owned(),
                query: queries[next(queries.len())].to_owned(),
                headers: map,
                body: Bytes::from_static(bodies[next(bodies.len())]),
                request_id: format!("req-{i}"),
            };
            let answer = s3.handle(&ctx, &req);
            assert!(
                answer.status.as_u16() < 500 || answer.status.as_u16() == 501,
                "{req:?} -> {answer:?}"
            );
        }
    }
}
