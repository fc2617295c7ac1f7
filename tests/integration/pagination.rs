//! `GET /comments`: newest first, every comment exactly once across pages.

use feedback::PageCursor;
use feedback_tests::{TestApp, json_body};
use http::StatusCode;

#[tokio::test]
async fn paging_through_three_pages_returns_every_comment_once_newest_first() {
    let app = TestApp::spawn().await;
    let mut ids = Vec::new();
    for n in 0..45 {
        let comment = app.store_comment(&format!("comment {n}")).await;
        ids.push(comment.id.to_string());
    }
    ids.sort();
    ids.reverse();

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = Vec::new();
    loop {
        let mut query = vec![("limit", "20")];
        if let Some(cursor) = &cursor {
            query.push(("cursor", cursor.as_str()));
        }
        let response = app.list(&query).await;
        assert_eq!(response.status(), StatusCode::OK, "{}", response.body());
        let page = json_body(&response);
        let items = page["items"].as_array().unwrap();
        pages.push(items.len());
        seen.extend(items.iter().map(|i| i["id"].as_str().unwrap().to_owned()));
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(pages, [20, 20, 5]);
    assert_eq!(seen, ids, "every comment once, newest first");
}

#[tokio::test]
async fn a_page_that_ends_exactly_at_the_last_comment_has_no_next_cursor() {
    let app = TestApp::spawn().await;
    for n in 0..3 {
        app.store_comment(&format!("c{n}")).await;
    }
    let page = json_body(&app.list(&[("limit", "3")]).await);
    assert_eq!(page["items"].as_array().unwrap().len(), 3);
    assert!(page["next_cursor"].is_null(), "no empty last page");
}

#[tokio::test]
async fn an_empty_table_lists_nothing_and_a_valid_cursor_past_the_end_lists_nothing() {
    let app = TestApp::spawn().await;
    let page = json_body(&app.list(&[]).await);
    assert_eq!(page, serde_json::json!({"items": [], "next_cursor": null}));

    let oldest = PageCursor::after(
        feedback::CommentId::parse("00000000-0000-7000-8000-000000000000").unwrap(),
    );
    let cursor = oldest.to_string();
    let page = json_body(&app.list(&[("cursor", cursor.as_str())]).await);
    assert_eq!(page["items"], serde_json::json!([]));
}
