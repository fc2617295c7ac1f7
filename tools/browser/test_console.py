"""The ops console in headless Chromium: every node on the service map, every view
renders, and a fault on push-to-db is seen in the logs, on the map and in a trace, and
once switched off loses nothing."""

import json
import uuid

from playwright.sync_api import expect

from conftest import screenshot

NODES = [
    "feedback-api",
    "add-comments",
    "get-all-comments",
    "status",
    "push-to-db",
    "comments-queue",
    "comments-dlq",
    "comments-table",
    "pre-traffic-hook",
]


def traffic(page, stack, text):
    """One comment posted, the list read and the status asked: every route used."""
    response = page.request.post(f"{stack.url}/comments", data={"text": text, "rating": 5})
    assert response.status == 202, response.text()
    assert page.request.get(f"{stack.url}/comments").status == 200
    assert page.request.get(f"{stack.url}/status").status == 200
    return response.json()["id"]


def test_every_view_renders_and_the_map_has_every_node(stack, page):
    traffic(page, stack, f"for the map {uuid.uuid4()}")
    page.goto(f"{stack.url}/ops#map")
    for node in NODES:
        expect(page.locator(f'[data-node="{node}"]')).to_be_visible()
    # The request just made shows on its edges.
    expect(page.locator('path.edge[data-edge="feedback-api→add-comments"]')).to_have_attribute(
        "data-edge-state", "ok"
    )
    # The queue's edge to its DLQ is the redrive; push-to-db's (poison it sends) is not.
    label = 'g.edge-label[data-edge="{}"]'
    expect(page.locator(label.format("comments-queue→comments-dlq"))).to_contain_text(
        "redrive after"
    )
    expect(page.locator(label.format("push-to-db→comments-dlq"))).to_contain_text(
        "declared, not seen"
    )
    expect(page.locator(label.format("push-to-db→comments-dlq"))).not_to_contain_text("redrive")
    expect(page.locator("#fault-banner")).to_be_hidden()
    screenshot(page, "console-map")

    page.goto(f"{stack.url}/ops#functions")
    for function in ["add-comments", "get-all-comments", "push-to-db", "status"]:
        expect(page.locator(f'section.fn-card[data-function="{function}"]')).to_contain_text("live")
    screenshot(page, "console-functions")

    page.goto(f"{stack.url}/ops#metrics")
    expect(page.locator('section[data-metrics-function="add-comments"]')).to_be_visible()
    screenshot(page, "console-metrics")

    page.goto(f"{stack.url}/ops#traces")
    expect(page.locator("tr[data-trace-id]").first).to_be_visible()
    screenshot(page, "console-traces")

    page.goto(f"{stack.url}/ops#logs")
    expect(page.locator('#log-rows .log-row[data-function="add-comments"]').first).to_be_visible()
    screenshot(page, "console-logs")


def test_a_fault_on_push_to_db_is_seen_everywhere_and_loses_nothing(stack, page):
    page.goto(f"{stack.url}/ops#faults")
    controls = page.locator('section[data-fault-function="push-to-db"]')
    controls.locator('[data-action="fail-all"]').click()
    expect(page.locator("#fault-banner")).to_contain_text("push-to-db")
    expect(controls).to_have_attribute("data-active", "true")
    screenshot(page, "console-faults")

    # Posted on the feedback page: accepted, and it stays queued.
    text = f"during the fault {uuid.uuid4()}"
    page.goto(f"{stack.url}/")
    page.fill("#text", text)
    page.click("#submit")
    item = page.locator("#comments li", has_text=text)
    expect(item).to_have_attribute("data-state", "pending")
    comment_id = item.get_attribute("data-comment-id")
    screenshot(page, "page-pending-during-fault")

    # Logs: push-to-db's ERROR lines, live.
    page.goto(f"{stack.url}/ops#logs?function=push-to-db&level=ERROR")
    expect(page.locator('#log-rows .log-row[data-level="ERROR"][data-function="push-to-db"]').first).to_be_visible(
        timeout=15_000
    )
    expect(page.locator("#fault-banner")).to_be_visible()
    screenshot(page, "console-logs-fault")

    # Map: the queue's invocations of push-to-db fail.
    page.goto(f"{stack.url}/ops#map")
    expect(page.locator('path.edge[data-edge="comments-queue→push-to-db"]')).to_have_attribute(
        "data-edge-state", "bad", timeout=10_000
    )
    screenshot(page, "console-map-fault")

    # Traces: a fault trace, and its waterfall shows where.
    page.goto(f"{stack.url}/ops#traces?status=fault")
    row = page.locator('tr[data-trace-id][data-status="fault"]').first
    expect(row).to_be_visible(timeout=10_000)
    row.click()
    expect(page.locator('.wf-row[data-status="fault"]').first).to_be_visible()
    expect(page.locator(".wf-row").filter(has_text="push-to-db").first).to_be_visible()
    screenshot(page, "console-trace-fault")

    # Off: the comment posted meanwhile is stored when the queue gives it back.
    page.goto(f"{stack.url}/ops#faults")
    page.locator('section[data-fault-function="push-to-db"] [data-action="off"]').click()
    expect(page.locator("#fault-banner")).to_be_hidden()
    page.goto(f"{stack.url}/")
    item = page.locator(f'#comments li[data-comment-id="{comment_id}"]')
    expect(item).to_have_attribute("data-state", "stored", timeout=30_000)
    expect(item).to_contain_text(text)
    screenshot(page, "page-after-fault")


def test_the_dead_letter_view_shows_why_without_the_text_and_redrives(stack, page):
    # A message that is not a comment, sent straight to the comments queue in SQS's JSON
    # protocol (moto reads the service from the credential scope and checks no
    # signature): push-to-db dead-letters it on its first receive.
    info = page.request.get(f"{stack.url}/ops/api/stack").json()
    queue = next(q for q in info["queues"] if q["redrive"])
    secret = f"SECRET-{uuid.uuid4()}"
    sent = page.request.post(
        info["endpoint"],
        headers={
            "content-type": "application/x-amz-json-1.0",
            "x-amz-target": "AmazonSQS.SendMessage",
            "authorization": "AWS4-HMAC-SHA256 Credential=testing/20260101/eu-west-1/sqs/aws4_request, SignedHeaders=host, Signature=0",
        },
        data=json.dumps({"QueueUrl": queue["url"], "MessageBody": f"{{{secret}"}),
    )
    assert sent.ok, sent.text()

    page.goto(f"{stack.url}/ops#dlq")
    expect(page.locator('#nav a[data-view="dlq"]')).to_have_attribute("aria-current", "page")
    expect(page.locator(".dlq-depth")).to_have_attribute("data-depth", "1", timeout=20_000)
    page.locator('[data-action="list"]').click()
    row = page.locator("tr[data-message-id]").first
    expect(row).to_contain_text("poison: the message body is not a valid comment")
    expect(page.locator("#view")).not_to_contain_text(secret)
    screenshot(page, "console-dlq")

    # Redriven, it is moved back; being poison, push-to-db dead-letters it again.
    page.locator('[data-action="redrive"]').click()
    expect(page.locator(".dlq-result")).to_contain_text("moved 1 message back", timeout=20_000)
    expect(page.locator(".dlq-depth")).to_have_attribute("data-depth", "1", timeout=20_000)


def test_a_backend_outage_is_shown_and_answered_503_then_switched_off(stack, page):
    page.goto(f"{stack.url}/ops#faults")
    backend = page.locator('section[data-fault-function="backend"]')
    backend.locator('[data-action="outage"]').click()
    expect(backend).to_have_attribute("data-active", "true")
    expect(page.locator("#fault-banner")).to_contain_text("backend (DynamoDB, SQS)")
    screenshot(page, "console-faults-backend")

    # Every DynamoDB and SQS call of the functions fails: a post cannot be accepted,
    # and the answer says to retry (the SDK's own retries are spent first).
    refused = page.request.post(f"{stack.url}/comments", data={"text": f"in an outage {uuid.uuid4()}"})
    assert refused.status == 503, refused.text()
    assert refused.headers.get("retry-after"), refused.headers

    backend.locator('[data-action="off"]').click()
    expect(backend).to_have_attribute("data-active", "false")
    expect(page.locator("#fault-banner")).to_be_hidden()
    accepted = page.request.post(f"{stack.url}/comments", data={"text": f"after the outage {uuid.uuid4()}"})
    assert accepted.status == 202, accepted.text()
