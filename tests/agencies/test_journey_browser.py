"""The whole onboarding journey in a real browser: an agency admin applies with documents,
a vendor manager reviews, an approver (with TOTP) approves, the contract is recorded and
the agency becomes active. Screenshots of the review page and the expiry dashboard go to
/work/main/screenshots/ for a person to look at."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from portal.agencies import operations as ops
from portal.agencies.demo import demo_pdf
from portal.identity.operations import create_user
from portal.security import mfa
from tests.agencies.builders import new_uscc

pytestmark = pytest.mark.browser


def _login(browser: Any, server: Any, username: str, totp_secret: str | None = None) -> Any:  # noqa: F811
    context = browser.new_context(base_url=server.url, locale="en-US", viewport={"width": 1366, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", server.password)
    page.click("button:has-text('Log in')")
    if totp_secret:
        page.fill("input[name=code]", server.totp_now(totp_secret))
        page.click("button:has-text('Verify')")
    page.wait_for_url(lambda url: "/login" not in url)
    return page


def test_agency_admin_applies_manager_reviews_approver_approves_and_agency_becomes_active(
        browser: Any, live_server: Any, screenshots: Path, tmp_path: Path) -> None:  # noqa: F811
    from portal.cli import system_actor

    database = live_server.app.extensions["portal.db"]
    secret = mfa.new_secret()
    suffix = uuid.uuid4().hex[:6]
    with database.unit_of_work() as session:
        from sqlalchemy import select

        from portal.identity.models import User

        manager = session.scalars(select(User).where(User.username == "manager")).one()
        agency = ops.register_agency(session, manager, name=f"东方账款管理有限公司 {suffix}", region="Shanghai")
        create_user(session, system_actor("tests"), username=f"dongfang-{suffix}", display_name="东方 主管",
                    role="agency_admin", password=live_server.password, agency_id=agency.id)
        approver = create_user(session, system_actor("tests"), username=f"approver-{suffix}",
                               display_name="Qian Lei 钱磊", role="approver", password=live_server.password)
        approver.totp_secret = secret
        approver.mfa_enabled = True
        agency_id = agency.id
    base = f"/agencies/{agency_id}"

    # 1. The agency admin fills the application, uploads evidence and submits.
    page = _login(browser, live_server, f"dongfang-{suffix}")
    page.goto(f"{base}/documents")
    for kind, item, name in (("licence", "licence_document", "licence.pdf"),
                             ("confidentiality", "confidentiality", "nda.pdf")):
        path = tmp_path / name
        path.write_bytes(demo_pdf(f"{kind} {suffix}"))
        page.set_input_files("input[name=file]", str(path))
        page.select_option("select[name=kind]", kind)
        page.select_option("select[name=item_code]", item)
        page.click("button:has-text('Upload')")
        page.wait_for_selector("text=Document stored")
    page.goto(f"{base}/application")
    page.fill("input[name=uscc]", new_uscc())
    page.fill("input[name=registered_on]", "2021-05-10")
    page.fill("textarea[name=registered_address]", "上海市黄浦区中山东一路1号")
    page.fill("textarea[name=licence_scope]", "受金融机构委托提供逾期账款催收服务")
    page.fill("input[name=licence_number]", "310101000999888")
    page.fill("input[name=licence_expires_on]", "2029-12-31")
    page.fill("textarea[name=collection_system]", "CollectPro 5, full call recording")
    page.fill("input[name='clients-0-name']", "交通银行太平洋信用卡中心")
    page.fill("input[name='clients-0-since']", "2022-01-01")
    page.fill("input[name='clients-1-name']", "中银消费金融")
    page.fill("input[name='clients-1-since']", "2023-03-01")
    page.fill("input[name='contacts-0-name']", "周主管")
    page.click("button:has-text('Save and submit to the bank')")
    page.wait_for_selector("text=Application submitted to the bank.")
    assert page.inner_text("[data-testid=agency-status]") == "Submitted"
    page.context.close()

    # 2. The vendor manager starts the review, records a verdict on every item, proposes.
    page = _login(browser, live_server, "manager")
    page.goto(f"{base}/review")
    page.click("button:has-text('Start the review')")
    page.wait_for_selector("text=Review started.")
    items = page.locator("form.verdict-form").count()
    assert items >= 12  # every criterion of DOMAIN.md §1
    for i in range(items):
        page.locator("form.verdict-form").nth(i).locator("button:has-text('Save')").click()
        page.wait_for_selector("text=Verdict recorded.")
    assert page.locator("text=not reviewed").count() == 0
    page.screenshot(path=str(screenshots / "agencies-review.png"), full_page=True)
    page.fill("textarea[name=note]", "All criteria met; on-site inspection clean.")
    page.click("button:has-text('Complete review and propose')")
    page.wait_for_selector("text=Proposal sent to an approver.")
    page.context.close()

    # 3. A second person, the approver, approves with a reason (after TOTP).
    page = _login(browser, live_server, f"approver-{suffix}", secret)
    page.goto(f"{base}/review")
    page.select_option("select[name=decision]", "approved")
    page.fill("textarea[name=reason]", "Risk committee minute 2026-11")
    page.click("button:has-text('Record decision')")
    page.wait_for_selector("text=Decision recorded.")
    assert page.inner_text("[data-testid=agency-status]") == "Approved"
    page.context.close()

    # 4. The vendor manager records the signed contract and activates the agency.
    page = _login(browser, live_server, "manager")
    page.goto(f"{base}/contract")
    page.fill("input[name=reference]", f"OC-2026-{suffix}")
    page.fill("input[name=starts_on]", "2026-11-01")
    page.fill("input[name=ends_on]", "2027-10-31")
    page.fill("input[name=max_active_cases]", "800")
    page.fill("input[name=max_active_amount_yuan]", "30000000")
    for bucket, rate in (("M1", "8"), ("M2", "12")):
        page.check(f"input[name=bucket_{bucket}]")
        page.fill(f"input[name=rate_{bucket}]", rate)
    signed = tmp_path / "signed.pdf"
    signed.write_bytes(demo_pdf(f"signed contract {suffix}"))
    page.set_input_files("input[name=signed_document]", str(signed))
    page.click("button:has-text('Record contract')")
    page.wait_for_selector("text=Contract recorded.")
    page.click("button:has-text('Activate the agency')")
    page.wait_for_selector("text=The agency is active.")
    assert page.inner_text("[data-testid=agency-status]") == "Active"

    # Let the new agency's licence run close to expiry and the watch raise its alert, so
    # the dashboard shows an alerted row and the alert list.
    with database.unit_of_work() as session:
        from datetime import timedelta

        from portal import clock
        from portal.agencies.expiry import run_watch
        from portal.agencies.models import Agency

        session.get(Agency, agency_id).licence_expires_on = clock.today() + timedelta(days=12)
        session.flush()
        assert run_watch(session)["alerts"] >= 1
    page.goto("/agencies/expiry?days=365")
    page.wait_for_selector("[data-testid=expiries]")
    page.screenshot(path=str(screenshots / "agencies-expiry.png"), full_page=True)
    page.click("button[name=lang][value=zh_Hans]")
    page.goto(f"{base}/review")
    assert "审核清单" in page.content()
    page.screenshot(path=str(screenshots / "agencies-review-zh.png"), full_page=True)
    page.context.close()
