//! Who may talk to the local stack: only pages and tools that name it by a loopback
//! host. The server listens on 127.0.0.1, but a web page the presenter visits can still
//! reach it through DNS rebinding (its own host name, re-resolved to 127.0.0.1); the
//! browser then sends that host name, and this guard refuses it, so such a page can
//! neither inject faults nor read the logs.

use axum::extract::Request;
use axum::http::StatusCode;
use axum::http::header::HOST;
use axum::middleware::Next;
use axum::response::Response;

/// Whether `host` (a `Host` header: a name or address, maybe with a port) is loopback.
pub fn is_loopback_host(host: &str) -> bool {
    let name = if let Some(bracketed) = host.strip_prefix('[') {
        // `[::1]:3000`
        bracketed.split(']').next().unwrap_or_default()
    } else {
        host.rsplit_once(':').map_or(host, |(name, port)| {
            if port.chars().all(|c| c.is_ascii_digit()) {
                name
            } else {
                host
            }
        })
    };
    let name = name.trim_end_matches('.');
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|address| address.is_loopback())
}

/// Refuses a request whose `Host` is not loopback with a `403` problem that says why.
/// A request without `Host` (HTTP/1.0 tools) is let through: no browser sends one.
pub async fn loopback_only(request: Request, next: Next) -> Response {
    let host = request
        .headers()
        .get(HOST)
        .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned());
    match host {
        Some(host) if !is_loopback_host(&host) => super::api::problem(
            StatusCode::FORBIDDEN,
            &format!(
                "the local stack answers only requests for a loopback host (127.0.0.1, localhost, [::1]); this one was for {host:?}"
            ),
        ),
        _ => next.run(request).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_names_and_addresses_pass() {
        for host in [
            "127.0.0.1:3000",
            "127.0.0.1",
            "localhost:3000",
            "LOCALHOST",
            "localhost.",
            "[::1]:3000",
            "127.1.2.3:80",
        ] {
            assert!(is_loopback_host(host), "{host}");
        }
        for host in [
            "evil.example:3000",
            "localhost.evil.example",
            "127.0.0.1.nip.io",
            "10.0.0.1:3000",
            "[::2]:3000",
            "",
            "0.0.0.0:3000",
        ] {
            assert!(!is_loopback_host(host), "{host}");
        }
    }
}
