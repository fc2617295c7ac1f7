//! Matching a request path to a template route (`/status/{id}`), with the path
//! parameters decoded as API Gateway decodes them.

use std::collections::HashMap;

use crate::cloudformation::Route;

/// The parameters of `path` if it matches `route` and `method`.
pub fn matches(route: &Route, method: &str, path: &str) -> Option<HashMap<String, String>> {
    if route.method != "ANY" && route.method != method {
        return None;
    }
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    let pattern: Vec<&str> = route.path.trim_end_matches('/').split('/').collect();
    if pattern.len() != segments.len() {
        return None;
    }
    let mut parameters = HashMap::new();
    for (p, s) in pattern.iter().zip(&segments) {
        match p.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
            Some(name) if !s.is_empty() => {
                parameters.insert(name.to_owned(), percent_decode(s));
            }
            None if p == s => {}
            Some(_) | None => return None,
        }
    }
    Some(parameters)
}

/// `%XX` escapes decoded; anything that is not a valid escape stays as written, and
/// bytes that are not UTF-8 become U+FFFD.
pub fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| char::from(b).to_digit(16);
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(high), Some(low)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push(u8::try_from(high * 16 + low).unwrap_or_default());
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(method: &str, path: &str) -> Route {
        Route {
            method: method.into(),
            path: path.into(),
        }
    }

    #[test]
    fn routes_match_by_method_and_segments_with_decoded_parameters() {
        let status = route("GET", "/status/{id}");
        assert_eq!(
            matches(&status, "GET", "/status/a%20b").unwrap()["id"],
            "a b"
        );
        assert!(matches(&status, "POST", "/status/x").is_none());
        assert!(matches(&status, "GET", "/status/").is_none());
        assert!(matches(&status, "GET", "/status/x/y").is_none());
        assert!(matches(&route("ANY", "/comments"), "DELETE", "/comments/").is_some());
        assert!(matches(&route("GET", "/comments"), "GET", "/other").is_none());
    }

    #[test]
    fn percent_decoding_keeps_what_is_not_an_escape() {
        assert_eq!(percent_decode("a%20b"), "a b");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz"), "%zz");
        assert_eq!(percent_decode("%E2%9C%93"), "\u{2713}");
        assert_eq!(percent_decode("%FF"), "\u{fffd}");
    }
}
