//! Small HTTP helpers shared by the emulated services.

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Response, StatusCode};

pub type Resp = Response<Full<Bytes>>;

/// A request ID per answer, in the header AWS's REST and JSON services send it in.
fn request_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

pub fn json(status: u16, body: serde_json::Value) -> Resp {
    Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::OK))
        .header("content-type", "application/json")
        .header("x-amzn-RequestId", request_id())
        .body(Full::new(Bytes::from(body.to_string())))
        .expect("valid response")
}

/// A REST-JSON error as AWS sends it: the code in `x-amzn-ErrorType` and in the body.
pub fn aws_error(status: u16, code: &str, message: &str) -> Resp {
    let mut r = json(
        status,
        serde_json::json!({"__type": code, "message": message}),
    );
    r.headers_mut()
        .insert("x-amzn-ErrorType", code.parse().expect("header value"));
    r
}

/// A REST-JSON error whose body carries the exception's own members (e.g. `validZones`).
pub fn aws_error_body(status: u16, code: &str, mut body: serde_json::Value) -> Resp {
    body["__type"] = serde_json::json!(code);
    let mut r = json(status, body);
    r.headers_mut()
        .insert("x-amzn-ErrorType", code.parse().expect("header value"));
    r
}

/// One page of `items`: from the offset in `token` (`tb-page-N`, as the previous page gave
/// it), at most the caller's `max` and the testbed's `page_size` (0: no limit). Returns the
/// page and the next page's token, if there is one.
pub fn page<T: Clone>(
    items: &[T],
    token: Option<&str>,
    max: Option<u64>,
    page_size: usize,
) -> (Vec<T>, Option<String>) {
    let offset = token
        .and_then(|t| t.strip_prefix("tb-page-"))
        .and_then(|n| n.parse::<usize>().ok())
        .unwrap_or(0);
    let limit = match (max.map(|m| m as usize), page_size) {
        (Some(m), 0) => m,
        (None, 0) => usize::MAX,
        (Some(m), p) => m.min(p),
        (None, p) => p,
    }
    .max(1);
    let page: Vec<T> = items.iter().skip(offset).take(limit).cloned().collect();
    let next =
        (offset.saturating_add(limit) < items.len()).then(|| format!("tb-page-{}", offset + limit));
    (page, next)
}

/// A query-protocol (EC2 / IAM / STS) error document, with its request ID in the body (and
/// the header, as AWS also sends it).
pub fn query_error(service: &str, status: u16, code: &str, message: &str) -> Resp {
    let id = request_id();
    let body = if service == "ec2" {
        format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error></Errors><RequestID>{id}</RequestID></Response>")
    } else {
        format!("<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>{id}</RequestId></ErrorResponse>")
    };
    Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST))
        .header("content-type", "text/xml")
        .header("x-amzn-RequestId", id)
        .body(Full::new(Bytes::from(body)))
        .expect("valid response")
}

pub fn now_epoch() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or_default()
}

pub fn now_iso() -> String {
    let now = time::OffsetDateTime::now_utc();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second()
    )
}

/// Decodes `%XX` and `+` in a URL path segment or form value.
pub fn url_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", s.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// Service and region from the SigV4 credential scope: `Credential=AKID/DATE/REGION/SERVICE/aws4_request`.
pub fn sigv4_scope(authorization: &str) -> Option<(String, String)> {
    let scope = authorization
        .split("Credential=")
        .nth(1)?
        .split(',')
        .next()?;
    let parts: Vec<&str> = scope.split('/').collect();
    if parts.len() < 5 {
        return None;
    }
    Some((parts[3].to_string(), parts[2].to_string()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn scope_is_parsed() {
        let auth = "AWS4-HMAC-SHA256 Credential=test/20261126/us-west-2/eks/aws4_request, SignedHeaders=host, Signature=x";
        assert_eq!(
            super::sigv4_scope(auth),
            Some(("eks".into(), "us-west-2".into()))
        );
        assert_eq!(super::sigv4_scope("junk"), None);
    }

    #[test]
    fn pages_follow_their_tokens() {
        let items: Vec<u32> = (0..5).collect();
        let (first, next) = super::page(&items, None, None, 2);
        assert_eq!((first, next.as_deref()), (vec![0, 1], Some("tb-page-2")));
        let (last, next) = super::page(&items, Some("tb-page-4"), None, 2);
        assert_eq!((last, next), (vec![4], None));
        let (all, next) = super::page(&items, None, None, 0);
        assert_eq!((all.len(), next), (5, None));
        let (capped, _) = super::page(&items, None, Some(1), 2);
        assert_eq!(capped, vec![0]);
    }

    #[test]
    fn url_decoding() {
        assert_eq!(
            super::url_decode("arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fx"),
            "arn:aws:iam::1:role/x"
        );
    }
}
