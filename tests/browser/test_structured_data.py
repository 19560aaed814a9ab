"""In a real Chromium: the ClaimReview block is read as data under our CSP, never run."""

from __future__ import annotations

import json

from playwright.sync_api import expect

from reports.models import Verdict
from tests.conftest import make_report, publish_now


def test_the_claim_review_block_raises_no_csp_violation_and_runs_nothing(page, page_errors):
    claim = "Aliens built it </script><script>window.pwned = true</script>"
    report = make_report(claim=claim, verdict=Verdict.objects.get(slug="unproven"))
    publish_now(report)

    page.goto(f"/reports/{report.slug}/")

    expect(page.get_by_role("heading", level=1)).to_have_text(claim)
    block = page.locator('script[type="application/ld+json"]')
    expect(block).to_have_count(1)
    review = json.loads(block.text_content())
    assert review["claimReviewed"] == claim
    assert review["reviewRating"] == {"@type": "Rating", "alternateName": "Unproven"}
    assert page.evaluate("window.pwned") is None
    page.get_by_role("link", name="Rating scale").click()
    expect(page.get_by_role("heading", level=1, name="Rating scale")).to_be_visible()
    assert page_errors == []
