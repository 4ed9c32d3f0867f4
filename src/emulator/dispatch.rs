//! Who a request is for and from: the service (from `X-Amz-Target` or the SigV4 credential
//! scope), the operation, the region and the account.

/// Who is calling and where: from the request's credential scope and access key.
#[derive(Clone, Debug)]
pub struct Ctx {
    /// 12-digit account ID.
    pub account: String,
    /// Region, such as `us-east-1`.
    pub region: String,
}

/// Default region when a request carries no credential scope.
pub const DEFAULT_REGION: &str = "us-east-1";

/// The parts of a SigV4 `Authorization` header the emulator uses.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Scope<'a> {
    /// Access key ID.
    pub access_key: Option<&'a str>,
    /// Region of the credential scope.
    pub region: Option<&'a str>,
    /// Service of the credential scope (`kinesis`, `firehose`, `iam`, `s3`, ...).
    pub service: Option<&'a str>,
}

/// Parses `AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/kinesis/aws4_request, ...`.
pub fn parse_authorization(header: &str) -> Scope<'_> {
    let Some(credential) = header
        .split([',', ' '])
        .find_map(|part| part.trim().strip_prefix("Credential="))
    else {
        return Scope::default();
    };
    let mut parts = credential.split('/');
    let access_key = parts.next().filter(|s| !s.is_empty());
    let _date = parts.next();
    let region = parts.next().filter(|s| !s.is_empty());
    let service = parts.next().filter(|s| !s.is_empty());
    Scope {
        access_key,
        region,
        service,
    }
}

/// The service of the request's SigV4 credential scope, from its `Authorization` header or
/// a presigned URL's `X-Amz-Credential`; `None` when it is unsigned.
pub fn scope_service(headers: &http::HeaderMap, query: &str) -> Option<String> {
    let presigned_credential = query
        .split('&')
        .find_map(|p| p.strip_prefix("X-Amz-Credential="))
        .map(|c| c.replace("%2F", "/").replace("%2f", "/"));
    headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|h| parse_authorization(h).service.map(str::to_owned))
        .or_else(|| presigned_credential.and_then(|c| c.split('/').nth(3).map(str::to_owned)))
}

/// The caller's account: a 12-digit access key ID is taken as the account ID (so tests can
/// address several accounts), any other key maps to `default_account`.
pub fn account_for(access_key: Option<&str>, default_account: &str) -> String {
    match access_key {
        Some(k) if k.len() == 12 && k.bytes().all(|b| b.is_ascii_digit()) => k.to_owned(),
        _ => default_account.to_owned(),
    }
}

/// The request context from the `Authorization` header.
pub fn context(authorization: Option<&str>, default_account: &str) -> Ctx {
    let scope = authorization.map(parse_authorization).unwrap_or_default();
    Ctx {
        account: account_for(scope.access_key, default_account),
        region: scope.region.unwrap_or(DEFAULT_REGION).to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_scope_names_key_region_and_service() {
        let h = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-west-2/kinesis/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc";
        assert_eq!(
            parse_authorization(h),
            Scope {
                access_key: Some("AKIDEXAMPLE"),
                region: Some("us-west-2"),
                service: Some("kinesis")
            }
        );
        assert_eq!(parse_authorization("garbage"), Scope::default());
        assert_eq!(parse_authorization("Credential="), Scope::default());
    }

    #[test]
    fn accounts_from_access_keys() {
        assert_eq!(
            account_for(Some("111122223333"), "000000000000"),
            "111122223333"
        );
        assert_eq!(
            account_for(Some("AKIDEXAMPLE"), "000000000000"),
            "000000000000"
        );
        assert_eq!(account_for(None, "000000000000"), "000000000000");
        let ctx = context(None, "123456789012");
        assert_eq!(
            (ctx.account.as_str(), ctx.region.as_str()),
            ("123456789012", DEFAULT_REGION)
        );
    }
}
