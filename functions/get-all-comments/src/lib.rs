//! # get-all-comments
//!
//! `GET /comments?limit=&cursor=`: the stored comments, newest first, a page at a
//! time. `limit` is 1 to 100 (20 by default); `cursor` is the previous page's
//! `next_cursor`, passed back unchanged. The page comes from a `Query` on the table's
//! `feed` index, never a `Scan`, so its cost does not grow with the table.

use feedback::api::{ApiError, PageBody, json_response};
use feedback::{CommentStore, PageCursor, PageLimit};
use http::StatusCode;
use lambda_http::{Request, RequestExt};
use ops_kit::{ConfigError, CorrelationId, required_env};

/// The service name on every log line.
pub const SERVICE: &str = "get-all-comments";

/// What the function reads from its environment.
#[derive(Debug, Clone)]
pub struct Config {
    /// `TABLE_NAME`: the comments table.
    pub table_name: String,
}

impl Config {
    /// Reads the configuration.
    ///
    /// # Errors
    /// [`ConfigError`] naming the missing variable.
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            table_name: required_env("TABLE_NAME")?,
        })
    }
}

/// Handles `GET /comments`.
pub async fn handle<S: CommentStore>(request: Request, store: &S) -> http::Response<String> {
    let correlation_id = CorrelationId::from_request(&request);
    ops_kit::correlate(&correlation_id);
    match list(&request, &correlation_id, store).await {
        Ok(response) => response,
        Err(error) => error.into_response(&correlation_id),
    }
}

async fn list<S: CommentStore>(
    request: &Request,
    correlation_id: &CorrelationId,
    store: &S,
) -> Result<http::Response<String>, ApiError> {
    let query = request.query_string_parameters();
    let single = |name: &'static str| -> Result<Option<&str>, ApiError> {
        let values = query.all(name).unwrap_or_default();
        match values.as_slice() {
            [] => Ok(None),
            [one] => Ok(Some(*one)),
            _ => Err(ApiError::InvalidParameter {
                name,
                problem: feedback::FieldProblem::new("give this parameter at most once"),
            }),
        }
    };
    let limit =
        PageLimit::parse(single("limit")?).map_err(|problem| ApiError::InvalidParameter {
            name: "limit",
            problem,
        })?;
    let cursor = single("cursor")?
        .map(PageCursor::parse)
        .transpose()
        .map_err(|problem| ApiError::InvalidParameter {
            name: "cursor",
            problem,
        })?;

    let page = store.newest(limit, cursor).await?;
    tracing::info!(
        returned = page.items.len(),
        more = page.next.is_some(),
        key_activity = "list",
        "comments listed"
    );
    Ok(json_response(
        StatusCode::OK,
        &PageBody::from(&page),
        correlation_id,
    ))
}
