//! Small HTTP helpers shared by the emulated services.

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Response, StatusCode};

pub type Resp = Response<Full<Bytes>>;

pub fn json(status: u16, body: serde_json::Value) -> Resp {
    Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::OK))
        .header("content-type", "application/json")
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

/// A query-protocol (EC2 / IAM / STS) error document.
pub fn query_error(service: &str, status: u16, code: &str, message: &str) -> Resp {
    let body = if service == "ec2" {
        format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error></Errors><RequestID>testbed</RequestID></Response>")
    } else {
        format!("<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>testbed</RequestId></ErrorResponse>")
    };
    Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST))
        .header("content-type", "text/xml")
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
    fn url_decoding() {
        assert_eq!(
            super::url_decode("arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fx"),
            "arn:aws:iam::1:role/x"
        );
    }
}
