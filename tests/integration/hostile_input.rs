//! Malformed, oversized, missing and hostile input: each gets a 4xx problem response
//! a person can act on, and nothing is queued or stored.

use base64::Engine as _;
use feedback_tests::{TestApp, api_event, from_event, json_body};
use http::StatusCode;
use serde_json::Value;

const JSON: (&str, &str) = ("Content-Type", "application/json");

/// One hostile `POST /comments`: what is sent and the status it must get.
struct Case {
    name: &'static str,
    body: Vec<u8>,
    headers: Vec<(&'static str, String)>,
    expected: StatusCode,
}

fn case(name: &'static str, body: impl Into<Vec<u8>>, expected: StatusCode) -> Case {
    Case {
        name,
        body: body.into(),
        headers: vec![(JSON.0, JSON.1.to_owned())],
        expected,
    }
}

#[allow(
    clippy::too_many_lines,
    reason = "one table of cases reads best in one place"
)]
fn post_cases() -> Vec<Case> {
    use StatusCode as S;
    let bad = S::BAD_REQUEST;
    let deep = format!("{{\"text\":{}1{}}}", "[".repeat(10_000), "]".repeat(10_000));
    let mut cases = vec![
        case("empty body", "", bad),
        case("truncated JSON", r#"{"text":"hel"#, bad),
        case("not JSON", "text=hello", bad),
        case("a JSON array read by position", r#"["Ada","hello",5]"#, bad),
        case("a JSON string", r#""hello""#, bad),
        case("JSON null", "null", bad),
        case("missing text", "{}", bad),
        case("empty text", r#"{"text":""}"#, bad),
        case("blank text", r#"{"text":" \n\t\u00a0 "}"#, bad),
        case(
            "text of invisible characters only",
            r#"{"text":"\u200b\u200d\ufeff"}"#,
            bad,
        ),
        case(
            "a right-to-left override in the author",
            r#"{"author":"Ada\u202e","text":"ok"}"#,
            bad,
        ),
        case(
            "text of 2001 characters",
            format!(r#"{{"text":"{}"}}"#, "é".repeat(2001)),
            bad,
        ),
        case("text as a number", r#"{"text":123}"#, bad),
        case("text as an array", r#"{"text":["a"]}"#, bad),
        case(
            "an operator object for text",
            r#"{"text":{"$ne":null}}"#,
            bad,
        ),
        case("a NUL in the text", r#"{"text":"a\u0000b"}"#, bad),
        case(
            "a terminal escape in the text",
            r#"{"text":"\u001b[31mred"}"#,
            bad,
        ),
        case("a lone surrogate", r#"{"text":"\ud800"}"#, bad),
        case(
            "a line break in the author",
            r#"{"text":"ok","author":"a\nb"}"#,
            bad,
        ),
        case("an empty author", r#"{"text":"ok","author":""}"#, bad),
        case(
            "an author of 101 characters",
            format!(r#"{{"text":"ok","author":"{}"}}"#, "a".repeat(101)),
            bad,
        ),
        case("rating 0", r#"{"text":"ok","rating":0}"#, bad),
        case("rating 6", r#"{"text":"ok","rating":6}"#, bad),
        case("a negative rating", r#"{"text":"ok","rating":-1}"#, bad),
        case("a fractional rating", r#"{"text":"ok","rating":4.5}"#, bad),
        case("a rating as a string", r#"{"text":"ok","rating":"5"}"#, bad),
        case(
            "a rating beyond f64",
            r#"{"text":"ok","rating":1e400}"#,
            bad,
        ),
        case(
            "a rating beyond u64",
            r#"{"text":"ok","rating":123456789012345678901234567890}"#,
            bad,
        ),
        case("an unknown member", r#"{"text":"ok","admin":true}"#, bad),
        case(
            "a prototype-pollution member",
            r#"{"text":"ok","__proto__":{"admin":true}}"#,
            bad,
        ),
        case(
            "a repeated member",
            r#"{"text":"first","text":"second"}"#,
            bad,
        ),
        case("nesting 10 000 deep (inside the size limit)", deep, bad),
        case("trailing garbage", r#"{"text":"ok"} {"text":"again"}"#, bad),
        case(
            "a body over 32 KiB",
            format!(r#"{{"text":"{}"}}"#, "x".repeat(40_000)),
            S::PAYLOAD_TOO_LARGE,
        ),
        Case {
            name: "no Content-Type",
            body: br#"{"text":"ok"}"#.to_vec(),
            headers: vec![],
            expected: S::UNSUPPORTED_MEDIA_TYPE,
        },
        Case {
            name: "Content-Type text/plain",
            body: br#"{"text":"ok"}"#.to_vec(),
            headers: vec![("Content-Type", "text/plain".into())],
            expected: S::UNSUPPORTED_MEDIA_TYPE,
        },
        Case {
            name: "a form post",
            body: b"text=ok".to_vec(),
            headers: vec![("Content-Type", "application/x-www-form-urlencoded".into())],
            expected: S::UNSUPPORTED_MEDIA_TYPE,
        },
    ];
    let mut with_key = |name, key: String| {
        let mut c = case(name, r#"{"text":"ok"}"#, bad);
        c.headers.push(("Idempotency-Key", key));
        cases.push(c);
    };
    with_key("an Idempotency-Key of 256 characters", "k".repeat(256));
    with_key("an Idempotency-Key with a space", "two words".into());
    with_key("an empty Idempotency-Key", String::new());
    cases.push(case(
        "invalid UTF-8",
        b"{\"text\":\"\xff\xfe\"}".to_vec(),
        bad,
    ));
    cases
}

#[tokio::test]
async fn every_hostile_post_gets_a_4xx_problem_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let cases = post_cases();
    assert!(cases.len() >= 30, "{} cases", cases.len());
    for case in cases {
        let headers: Vec<(&str, &str)> =
            case.headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let mut event = api_event("POST", "/comments", "/comments", None, &headers, &[], &[]);
        // Bodies go in as API Gateway sends them: text, or base64 when not UTF-8.
        if let Ok(text) = std::str::from_utf8(&case.body) {
            event["body"] = Value::String(text.to_owned());
        } else {
            event["body"] =
                Value::String(base64::engine::general_purpose::STANDARD.encode(&case.body));
            event["isBase64Encoded"] = Value::Bool(true);
        }
        let response = add_comments::handle(from_event(&event), &app.queue, &app.store).await;
        assert_problem(&response, case.expected, case.name);
    }
    assert_eq!(app.depth(&app.queue_url).await, 0, "nothing was queued");
    assert!(app.stored_comments().await.is_empty(), "nothing was stored");
}

#[tokio::test]
async fn invalid_fields_are_each_named_so_a_form_can_show_them() {
    let app = TestApp::spawn().await;
    let response = app
        .post(r#"{"author":"","text":"   ","rating":9}"#, &[JSON])
        .await;
    let problem = json_body(&response);
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["/author", "/text", "/rating"]);
    assert!(
        problem["errors"][2]["message"]
            .as_str()
            .unwrap()
            .contains("1 to 5")
    );
}

#[tokio::test]
async fn a_hostile_correlation_id_is_replaced_not_echoed() {
    let app = TestApp::spawn().await;
    for hostile in [
        "<script>alert(1)</script>",
        "a b",
        &"x".repeat(200),
        "id;rm -rf",
    ] {
        let response = app
            .post(r#"{"text":"ok"}"#, &[JSON, ("X-Correlation-Id", hostile)])
            .await;
        assert_eq!(response.status(), StatusCode::ACCEPTED);
        let echoed = response.headers()["x-correlation-id"].to_str().unwrap();
        assert_ne!(echoed, hostile);
        assert!(ops_kit::CorrelationId::parse(echoed).is_ok(), "{echoed}");
    }
}

#[tokio::test]
async fn hostile_list_queries_get_a_400_naming_the_parameter() {
    let app = TestApp::spawn().await;
    let valid = feedback::PageCursor::after(feedback::CommentId::new()).to_string();
    let truncated = valid[..20].to_owned();
    let mut altered = valid.clone().into_bytes();
    altered[5] = if altered[5] == b'A' { b'B' } else { b'A' };
    let altered = String::from_utf8(altered).unwrap();
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (vec![("cursor", truncated.as_str())], "cursor"),
        (vec![("cursor", altered.as_str())], "cursor"),
        (
            vec![("cursor", "eyJwayI6eyJTIjoiQ09NTUVOVCMxIn19")],
            "cursor",
        ),
        (vec![("cursor", "' OR '1'='1")], "cursor"),
        (vec![("cursor", "")], "cursor"),
        (
            vec![("cursor", valid.as_str()), ("cursor", valid.as_str())],
            "cursor",
        ),
        (vec![("limit", "0")], "limit"),
        (vec![("limit", "101")], "limit"),
        (vec![("limit", "-5")], "limit"),
        (vec![("limit", "ten")], "limit"),
        (vec![("limit", "1e2")], "limit"),
        (vec![("limit", "99999999999999999999999")], "limit"),
        (vec![("limit", "5"), ("limit", "6")], "limit"),
    ];
    for (query, parameter) in cases {
        let response = app.list(&query).await;
        assert_problem(&response, StatusCode::BAD_REQUEST, &format!("{query:?}"));
        assert_eq!(
            json_body(&response)["errors"][0]["field"],
            parameter,
            "{query:?}"
        );
    }
}

#[tokio::test]
async fn hostile_comment_ids_in_status_get_a_400() {
    let app = TestApp::spawn().await;
    for id in [
        "not-a-uuid",
        "' OR 1=1 --",
        "..%2F..%2Fetc",
        "4e2bd1c2-7a0b-4c5e-9f3a-1b2c3d4e5f60",
        &"9".repeat(500),
    ] {
        let response = app.status(Some(id)).await;
        assert_problem(&response, StatusCode::BAD_REQUEST, id);
    }
}

/// openapi.yaml gives `{id}` one form, the hyphenated UUIDv7 the API answers with. The
/// other forms a UUID parser reads (bare digits, braces, `urn:uuid:`) once found the
/// same stored comment under other names; they are a 400 like any other non-id.
#[tokio::test]
async fn a_stored_comment_is_found_only_by_its_hyphenated_id() {
    let app = TestApp::spawn().await;
    let id = app
        .store_comment("one comment, one id")
        .await
        .id
        .to_string();
    for found in [id.clone(), id.to_ascii_uppercase()] {
        let response = app.status(Some(&found)).await;
        assert_eq!(response.status(), StatusCode::OK, "{found}");
    }
    for other_form in [
        id.replace('-', ""),
        format!("{{{id}}}"),
        format!("urn:uuid:{id}"),
    ] {
        let response = app.status(Some(&other_form)).await;
        assert_problem(&response, StatusCode::BAD_REQUEST, &other_form);
        assert_eq!(json_body(&response)["errors"][0]["field"], "id");
    }
}

/// A problem response: the status, the media type, RFC 9457 members, and the same
/// correlation id in the body and the header.
fn assert_problem(response: &http::Response<String>, expected: StatusCode, name: &str) {
    assert_eq!(response.status(), expected, "{name}: {}", response.body());
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json",
        "{name}"
    );
    let problem = json_body(response);
    assert_eq!(problem["status"], expected.as_u16(), "{name}");
    for member in ["type", "title", "detail", "correlation_id"] {
        assert!(
            problem[member].as_str().is_some_and(|v| !v.is_empty()),
            "{name}: no {member}"
        );
    }
    assert_eq!(
        problem["correlation_id"].as_str(),
        response.headers()["x-correlation-id"].to_str().ok(),
        "{name}"
    );
}
