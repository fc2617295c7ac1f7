"""The console's Releases view in headless Chromium: every deployable function's card,
a deployment through the form that succeeds, one with an always-failing version that
must not (the red banner, the alias still on the good version), a problem answer shown
with its detail, and a canary stopped and rolled back by hand.

The stack runs with --time-scale 30: a 5-minute canary lasts 10 s, a 30-minute one 60 s.
"""

import re

from playwright.sync_api import expect

from conftest import screenshot

DEPLOYABLE = ["add-comments", "get-all-comments", "push-to-db", "status"]


def card(page, function):
    return page.locator(f'section.release-card[data-function="{function}"]')


def live_weights(page, function):
    return card(page, function).locator(".release-live .weights-bar")


def deploy(page, function, *, config=None, environment=None, error_rate=None):
    """Fills the function's deploy form and presses Deploy."""
    form = card(page, function).locator("form.deploy-form")
    if config is not None:
        form.locator("select.deploy-config").select_option(config)
    if environment is not None:
        form.locator("textarea.deploy-env").fill(environment)
    if error_rate is not None:
        form.locator("input.deploy-error-rate").fill(str(error_rate))
    button = form.locator("button.deploy-button")
    expect(button).to_be_enabled(timeout=10_000)
    button.click()
    return form


def test_deploy_roll_back_and_stop_from_the_releases_view(stack, page):
    page.goto(f"{stack.url}/ops#releases")
    expect(page.locator('#nav a[data-view="releases"]')).to_have_attribute("aria-current", "page")
    for function in DEPLOYABLE:
        expect(live_weights(page, function)).to_have_attribute("data-weights", '{"1":1}')
        expect(live_weights(page, function)).to_contain_text("1 · 100%")
    expect(page.locator("#release-banner")).to_be_hidden()
    status = card(page, "status")
    expect(status.locator('.release-alarms [data-alarm="StatusErrorsAlarm"]')).to_have_attribute("data-alarm-state", "OK")

    # A configuration change with the template's configuration (AllAtOnce here): it
    # passes the PreTraffic hook and is promoted.
    form = deploy(page, "status", environment="RELEASE_MARK=browser")
    events = status.locator("ol.deploy-events")
    expect(events.locator('li[data-kind="HookSucceeded"]')).to_be_visible(timeout=15_000)
    expect(events.locator('li[data-kind="Promoted"]')).to_be_visible(timeout=15_000)
    expect(status.locator("[data-deployment-status]")).to_have_attribute("data-deployment-status", "Succeeded")
    expect(live_weights(page, "status")).to_have_attribute("data-weights", '{"2":1}', timeout=10_000)
    expect(live_weights(page, "status")).to_contain_text("2 · 100%")
    expect(status.locator('ol.version-list li[data-version="2"]')).to_be_visible()
    expect(status.locator('.release-alarms [data-alarm="StatusErrorLinesAlarm"]')).to_be_visible()
    expect(page.locator("#release-banner")).to_be_hidden()
    screenshot(page, "console-releases")

    # The same again: nothing new to publish, and the form says why (the problem's detail).
    form.locator("button.deploy-button").click()
    expect(form.locator(".deploy-error")).to_contain_text("nothing new to deploy", timeout=15_000)

    # An always-failing version on a canary: the PreTraffic hook fails it, no traffic moves.
    deploy(page, "status", config="Canary10Percent5Minutes", error_rate=1)
    expect(page.locator("#release-banner.rolling-back")).to_be_visible(timeout=15_000)
    expect(page.locator("#release-banner")).to_contain_text("status")
    expect(status.locator("[data-deployment-status]")).to_have_attribute(
        "data-deployment-status", re.compile("^(Failed|Stopped)$"), timeout=15_000
    )
    expect(status.locator("[data-deployment-status]")).to_contain_text("Failed")
    expect(status.locator('ol.deploy-events li[data-kind="HookFailed"]')).to_be_visible()
    expect(live_weights(page, "status")).to_have_attribute("data-weights", '{"2":1}')
    expect(form.locator(".deploy-error")).to_be_hidden()
    screenshot(page, "console-releases-rollback")

    # A 30-minute canary (60 s here), stopped by hand while 10 % is on the new version. On
    # get-all-comments: the failing status version's ERROR lines (logged when the hook
    # invoked it) put StatusErrorLinesAlarm in ALARM for a 2 s period, and a deployment of
    # status started then would be stopped at once by it.
    other = card(page, "get-all-comments")
    other_form = deploy(page, "get-all-comments", config="Canary10Percent30Minutes", environment="RELEASE_MARK=stopped")
    expect(other.locator('ol.deploy-events li[data-kind="TrafficShifted"]')).to_be_visible(timeout=15_000)
    expect(other_form.locator("button.deploy-button")).to_be_disabled()
    expect(other.locator("[data-deployment-status]")).to_have_attribute("data-deployment-status", "InProgress")
    expect(live_weights(page, "get-all-comments")).to_have_attribute("data-weights", '{"1":0.9,"2":0.1}', timeout=10_000)
    expect(live_weights(page, "get-all-comments")).to_contain_text("1 · 90%")
    other_form.locator("button.stop-button").click()
    expect(other.locator("[data-deployment-status]")).to_have_attribute("data-deployment-status", "Stopped", timeout=10_000)
    expect(other.locator('ol.deploy-events li[data-kind="RolledBack"]')).to_be_visible()
    expect(live_weights(page, "get-all-comments")).to_have_attribute("data-weights", '{"1":1}', timeout=10_000)
    expect(page.locator("#release-banner")).to_contain_text("ROLLED BACK: get-all-comments version 2 — stopped on request")
    expect(other_form.locator("button.stop-button")).to_be_hidden()
    expect(other_form.locator("button.deploy-button")).to_be_enabled()
    expect(live_weights(page, "status")).to_have_attribute("data-weights", '{"2":1}')
