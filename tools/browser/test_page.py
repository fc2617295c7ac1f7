"""The feedback page in headless Chromium: post, see it pending then stored, see field
errors, and never see text run as HTML."""

import uuid

from playwright.sync_api import expect

from conftest import screenshot


def test_a_comment_appears_pending_then_stored(stack, page):
    page.goto(f"{stack.url}/")
    text = f"Great talk! {uuid.uuid4()}"
    page.fill("#author", "Ada")
    page.fill("#text", text)
    page.select_option("#rating", "5")
    page.click("#submit")
    item = page.locator("#comments li", has_text=text)
    expect(item).to_have_count(1)
    expect(item).to_have_attribute("data-state", "stored", timeout=15_000)
    expect(item.locator(".author")).to_have_text("Ada")
    expect(page.locator("#form-status")).to_contain_text("queued")
    screenshot(page, "page-stored")


def test_an_invalid_comment_shows_the_error_next_to_the_field(stack, page):
    page.goto(f"{stack.url}/")
    page.fill("#text", "   ")
    page.click("#submit")
    expect(page.locator("#text-error")).to_contain_text("text")
    expect(page.locator("#text")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#author-error")).to_be_empty()
    expect(page.locator("#form-status")).to_contain_text("fix the fields")
    screenshot(page, "page-invalid")
    # Fixing it clears the error and sends it.
    page.fill("#text", "Now with words")
    page.click("#submit")
    expect(page.locator("#text-error")).to_be_empty()
    expect(page.locator("#comments li", has_text="Now with words")).to_have_count(1)


def test_text_is_shown_as_text_never_as_html(stack, page):
    hostile = f'<img src=x onerror="window.pwned=1"><b>bold</b> {uuid.uuid4()}'
    page.goto(f"{stack.url}/")
    page.fill("#text", hostile)
    page.click("#submit")
    item = page.locator("#comments li .text", has_text=hostile)
    expect(item).to_have_count(1)
    expect(item).to_have_text(hostile)
    assert page.locator("#comments img, #comments b").count() == 0
    assert page.evaluate("window.pwned") is None


def test_load_more_pages_through_with_the_cursor(stack, page):
    # The page shows 10 at a time: make sure there are more than 10.
    marker = uuid.uuid4().hex[:8]
    for i in range(12):
        response = page.request.post(
            f"{stack.url}/comments",
            data={"text": f"paged {marker} {i}", "rating": 3},
        )
        assert response.status == 202
    page.goto(f"{stack.url}/")
    first = page.locator("#comments li", has_text=f"paged {marker} 11")
    expect(first).to_have_count(1, timeout=15_000)
    expect(page.locator("#load-more")).to_be_visible()
    before = page.locator("#comments li").count()
    page.click("#load-more")
    expect(page.locator("#comments li")).not_to_have_count(before)
    ids = page.locator("#comments li").evaluate_all("items => items.map(i => i.dataset.commentId)")
    assert len(ids) == len(set(ids)), "a comment is listed twice"
    assert ids == sorted(ids, reverse=True), "newest first"


def test_a_retry_after_a_server_error_sends_the_same_idempotency_key(stack, page):
    keys = []
    answered = {"first": False}

    def observe(route):
        keys.append(route.request.headers.get("idempotency-key"))
        if not answered["first"]:
            # The first attempt "times out" at the gateway: the page never sees a 2xx.
            answered["first"] = True
            route.fulfill(status=503, content_type="application/problem+json",
                          body='{"type":"about:blank","title":"Service unavailable","status":503,"detail":"try again"}')
        else:
            route.continue_()

    page.route("**/comments", lambda route: observe(route) if route.request.method == "POST" else route.continue_())
    page.goto(f"{stack.url}/")
    text = f"Retried {uuid.uuid4()}"
    page.fill("#text", text)
    page.click("#submit")
    expect(page.locator("#form-status")).not_to_be_empty()
    page.click("#submit")
    expect(page.locator("#comments li", has_text=text)).to_have_count(1)
    assert len(keys) == 2 and keys[0] and keys[0] == keys[1], keys
    # The next draft gets a key of its own.
    page.fill("#text", f"Another {uuid.uuid4()}")
    page.click("#submit")
    expect(page.locator("#comments li", has_text="Another")).to_have_count(1)
    assert len(keys) == 3 and keys[2] != keys[0], keys
