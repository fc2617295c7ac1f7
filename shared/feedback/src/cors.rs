//! CORS for the API's answers. With a Lambda proxy integration, API Gateway answers only
//! the preflight (`OPTIONS`, from the template's `Cors` setting); the answer to the
//! request itself must carry `Access-Control-Allow-Origin` from the function, or the
//! browser hides it from the page. `Access-Control-Expose-Headers` lets the page read
//! the headers it needs: `Location` (where to ask whether the comment is stored),
//! `X-Correlation-Id`, `Retry-After` and `Idempotent-Replayed`.

use http::header::{ACCESS_CONTROL_ALLOW_ORIGIN, ACCESS_CONTROL_EXPOSE_HEADERS, HeaderValue, VARY};

/// The headers a page on another origin may read.
const EXPOSED: &str = "Location, X-Correlation-Id, Retry-After, Idempotent-Replayed";

/// The origin that may call the API from a browser.
#[derive(Clone, Debug)]
pub struct Cors {
    allow_origin: HeaderValue,
}

/// `CORS_ALLOW_ORIGIN` is not a valid origin.
#[derive(Debug, thiserror::Error)]
#[error(
    "CORS_ALLOW_ORIGIN={0:?} is not an origin: give `*` or one origin such as https://feedback.example.com"
)]
pub struct InvalidOrigin(String);

impl Cors {
    /// `*`, or one origin (`https://feedback.example.com`).
    ///
    /// # Errors
    /// [`InvalidOrigin`] for anything else: a list, a path, a value that cannot be a
    /// header.
    pub fn new(allow_origin: &str) -> Result<Self, InvalidOrigin> {
        let invalid = || InvalidOrigin(allow_origin.to_owned());
        let is_origin = allow_origin == "*"
            || allow_origin
                .split_once("://")
                .is_some_and(|(scheme, host)| {
                    matches!(scheme, "http" | "https")
                        && !host.is_empty()
                        && !host.contains(['/', ',', ' ', '*'])
                });
        if !is_origin {
            return Err(invalid());
        }
        Ok(Self {
            allow_origin: HeaderValue::from_str(allow_origin).map_err(|_| invalid())?,
        })
    }

    /// `response` with the CORS headers.
    pub fn apply(&self, mut response: http::Response<String>) -> http::Response<String> {
        let headers = response.headers_mut();
        headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, self.allow_origin.clone());
        headers.insert(
            ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static(EXPOSED),
        );
        if self.allow_origin != "*" {
            // The answer depends on the origin: caches must not serve it to another.
            headers.insert(VARY, HeaderValue::from_static("Origin"));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_carries_the_origin_and_the_headers_a_page_may_read() {
        let response = Cors::new("https://feedback.example.com")
            .unwrap()
            .apply(http::Response::new(String::new()));
        assert_eq!(
            response.headers()[ACCESS_CONTROL_ALLOW_ORIGIN],
            "https://feedback.example.com"
        );
        let exposed = response.headers()[ACCESS_CONTROL_EXPOSE_HEADERS]
            .to_str()
            .unwrap();
        assert!(exposed.contains("Location") && exposed.contains("X-Correlation-Id"));
        assert_eq!(response.headers()[VARY], "Origin");
        let any = Cors::new("*")
            .unwrap()
            .apply(http::Response::new(String::new()));
        assert_eq!(any.headers()[ACCESS_CONTROL_ALLOW_ORIGIN], "*");
        assert!(any.headers().get(VARY).is_none());
    }

    #[test]
    fn anything_but_one_origin_or_a_star_is_refused() {
        for bad in [
            "",
            "feedback.example.com",
            "https://a.example, https://b.example",
            "https://a.example/path",
            "ftp://a.example",
            "https://*.example.com",
            "https://a.example\nX-Evil: 1",
        ] {
            assert!(Cors::new(bad).is_err(), "{bad:?}");
        }
    }
}
