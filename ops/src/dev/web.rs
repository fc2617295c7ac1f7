//! The feedback page and the console: the files of `web/`, served from disk on each
//! request (an edit shows on reload) with a content security policy that lets only this
//! origin's scripts, styles and API in, so text from the API can never run as code.

use std::path::Path;

use axum::response::{IntoResponse, Response};

/// Content types of the files `web/` may hold; any other file is not served.
const CONTENT_TYPES: [(&str, &str); 7] = [
    ("html", "text/html; charset=utf-8"),
    ("js", "text/javascript; charset=utf-8"),
    ("css", "text/css; charset=utf-8"),
    ("svg", "image/svg+xml"),
    ("png", "image/png"),
    ("json", "application/json"),
    ("ico", "image/x-icon"),
];

/// The content security policy of every page.
/// No other site may frame the pages (`frame-ancestors`): a console in someone else's
/// frame could be clicked into injecting faults.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

/// The file of `web/` a `GET` path names, with its content type: `/` is the page,
/// `/ops` the console, any other path a file below `web/` by its own path. Only plain
/// segments (no `..`, no hidden files, no escapes) and the known content types: an API
/// route never has an extension, so it is never shadowed by a file.
pub fn file_for(path: &str) -> Option<(String, &'static str)> {
    let relative = match path {
        "/" => "index.html",
        "/ops" | "/ops/" => "ops.html",
        other => other.strip_prefix('/')?,
    };
    let plain = relative.split('/').all(|segment| {
        !segment.is_empty()
            && !segment.starts_with('.')
            && segment
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    });
    let extension = relative.rsplit_once('.')?.1;
    let content_type = CONTENT_TYPES
        .iter()
        .find(|(known, _)| *known == extension)?
        .1;
    plain.then(|| (relative.to_owned(), content_type))
}

/// The file's answer, or `None` when `web_dir` has no such file.
pub async fn serve(web_dir: &Path, file: &str, content_type: &'static str) -> Option<Response> {
    let bytes = tokio::fs::read(web_dir.join(file)).await.ok()?;
    Some(
        (
            [
                ("content-type", content_type),
                ("cache-control", "no-store"),
                ("x-content-type-options", "nosniff"),
                ("content-security-policy", CONTENT_SECURITY_POLICY),
                // For browsers that predate frame-ancestors.
                ("x-frame-options", "DENY"),
            ],
            bytes,
        )
            .into_response(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn web_paths_name_plain_files_of_known_types_only() {
        assert_eq!(
            file_for("/"),
            Some(("index.html".into(), "text/html; charset=utf-8"))
        );
        assert_eq!(file_for("/ops").map(|f| f.0), Some("ops.html".into()));
        assert_eq!(
            file_for("/console/views/map.js").map(|f| f.0),
            Some("console/views/map.js".into())
        );
        for refused in [
            "/comments",
            "/status/abc",
            "/../Cargo.toml",
            "/console/../../x.js",
            "/.git/config.js",
            "//etc/passwd.js",
            "/a%2e%2e/b.js",
            "/x.rs",
        ] {
            assert_eq!(file_for(refused), None, "{refused}");
        }
    }

    #[tokio::test]
    async fn a_file_is_served_with_its_type_and_the_policy() {
        let dir = std::env::temp_dir().join(format!("ops-web-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("page.js"), "1").unwrap();
        let response = serve(&dir, "page.js", "text/javascript; charset=utf-8")
            .await
            .unwrap();
        assert_eq!(
            response.headers()["content-security-policy"],
            CONTENT_SECURITY_POLICY
        );
        assert!(serve(&dir, "missing.js", "x").await.is_none());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
