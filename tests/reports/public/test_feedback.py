"""Readers talking back: error reports and claim suggestions, their queue and their limits."""

from __future__ import annotations

import re
import uuid

import pytest
from django.contrib.admin.models import LogEntry
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from reports import roles, workflow
from reports.models import ReaderMessage
from reports.public import feedback
from tests.conftest import make_report, make_user, publish_now

pytestmark = pytest.mark.django_db

# A fixed moment 30 seconds into a rate-limit window, so no test straddles two windows.
NOW = 1_800_000_000.0 + 30
RETRY_AFTER = feedback.RATE_WINDOW - 30

SCRIPT = '<script>alert("pwned")</script>'


@pytest.fixture(autouse=True)
def fresh_cache(settings, monkeypatch):
    """A cache of their own for each test (local memory, as in a one-server setup), and a
    frozen clock."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"feedback-{uuid.uuid4().hex}",
        }
    }
    monkeypatch.setattr(feedback, "_now", lambda: NOW)


@pytest.fixture
def live():
    report = make_report(claim="Bananas are blue.", slug="bananas")
    publish_now(report)
    return report


def error_url(report_or_slug) -> str:
    slug = getattr(report_or_slug, "slug", report_or_slug)
    return reverse("reports:report_error", kwargs={"slug": slug})


SUGGEST_URL = "/suggest/"


def error_data(**fields) -> dict:
    """What the error form sends, every field present as a browser sends it."""
    data = {"message": "The second section gets the date wrong.", "location": "", "email": ""}
    return {"version": "", "leave_empty": "", **data, **fields}


def suggestion_data(**fields) -> dict:
    data = {"claim": "The moon is made of cheese.", "claim_url": "", "message": "", "email": ""}
    return {"leave_empty": "", **data, **fields}


def csrf_client(url: str) -> tuple[Client, str]:
    """A client that checks CSRF as browsers meet it, and the token from the form at `url`."""
    client = Client(enforce_csrf_checks=True)
    page = client.get(url).content.decode()
    return client, re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)


def text_of(response) -> str:
    text = re.sub(r"<[^>]+>", " ", response.content.decode())
    return re.sub(r"\s+", " ", text)


# The forms and the thank-you pages


def test_a_published_report_links_to_its_error_form(client, live):
    response = client.get(live.get_absolute_url())

    assert f'href="{error_url(live)}"' in response.content.decode()
    assert "Report an error" in text_of(response)


def test_the_site_header_links_to_the_suggestion_form(client):
    response = client.get("/")

    assert f'href="{SUGGEST_URL}"' in response.content.decode()


def test_an_error_report_lands_in_the_queue_as_new_with_its_report_and_version(client, live):
    response = client.post(
        error_url(live),
        error_data(
            message="The date is 2024, not 2023.",
            location="Section 2, first paragraph",
            email="reader@example.com",
        ),
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("reports:report_error_thanks", args=["bananas"])
    message = ReaderMessage.objects.get()
    assert message.kind == ReaderMessage.Kind.ERROR
    assert message.status == ReaderMessage.Status.NEW
    assert message.report == live
    assert message.version_number == 1
    assert message.message == "The date is 2024, not 2023."
    assert message.location == "Section 2, first paragraph"
    assert message.email == "reader@example.com"


def test_after_sending_the_reader_sees_a_thank_you_page_with_a_message(client, live):
    response = client.post(error_url(live), error_data(), follow=True)

    assert response.status_code == 200
    assert response.redirect_chain[-1][0].endswith("/reports/bananas/report-error/thanks/")
    text = text_of(response)
    assert "Thank you" in text
    assert "Your report of an error in “Bananas are blue.” reached our editors." in text
    assert 'href="/reports/bananas/"' in response.content.decode()
    # The message is shown once: reloading the page does not repeat it.
    assert "reached our editors" not in text_of(client.get(response.request["PATH_INFO"]))


def test_an_error_report_records_the_version_the_reader_was_shown(client, live):
    live.summary = f"{live.summary} Revised."
    live.save()
    publish_now(live, note="New figures.", kind="update")

    # Reading version 1, superseded: its page links to the form with its number.
    old_page = client.get(reverse("reports:version", args=["bananas", 1]))
    assert f'href="{error_url(live)}?version=1"' in old_page.content.decode()
    form_page = client.get(error_url(live) + "?version=1")
    assert 'name="version" value="1"' in form_page.content.decode()

    client.post(error_url(live), error_data(version="1"))
    client.post(error_url(live), error_data(version=""))
    client.post(error_url(live), error_data(version="99"))

    numbers = sorted(m.version_number for m in ReaderMessage.objects.all())
    assert numbers == [1, 2, 2]


def test_a_claim_suggestion_lands_in_the_queue_as_new(client):
    response = client.post(
        SUGGEST_URL,
        suggestion_data(
            claim="Drinking coffee stunts growth.",
            claim_url="https://social.example/post/1",
            message="Shared 10,000 times this week.",
            email="reader@example.com",
        ),
        follow=True,
    )

    assert response.redirect_chain == [(reverse("reports:suggest_claim_thanks"), 302)]
    assert "Your suggestion reached our editors." in text_of(response)
    message = ReaderMessage.objects.get()
    assert message.kind == ReaderMessage.Kind.SUGGESTION
    assert message.status == ReaderMessage.Status.NEW
    assert message.report is None
    assert message.claim == "Drinking coffee stunts growth."
    assert message.claim_url == "https://social.example/post/1"
    assert message.message == "Shared 10,000 times this week."


def test_the_forms_are_labelled_with_autocomplete_and_no_inline_style_or_script(client, live):
    for url in [error_url(live), SUGGEST_URL]:
        response = client.get(url)
        page = response.content.decode()
        form = re.search(r'<article class="feedback">.*?</article>', page, re.S).group(0)

        assert response.status_code == 200
        assert "Content-Security-Policy" in response
        assert "style=" not in page
        assert "<style" not in form
        assert "<script" not in form
        assert 'autocomplete="email"' in form
        assert 'type="email"' in form
        assert 'name="csrfmiddlewaretoken"' in form
        assert " novalidate" in form  # the server's error summary, not the browser's bubbles
        # Every visible input has a label.
        visible = r'<(?:input|textarea)(?![^>]*type="hidden")[^>]*\bid="([^"]+)"'
        for field_id in re.findall(visible, form):
            assert f'for="{field_id}"' in form, field_id
        # Length limits are checked on the server, which keeps the text for trimming.
        assert "maxlength" not in form


def test_the_honeypot_is_hidden_by_a_class_labelled_and_out_of_the_tab_order(client):
    content = client.get(SUGGEST_URL).content.decode()

    trap = re.search(r'<div class="visually-hidden">(.*?)</div>', content, re.S)
    assert trap is not None
    assert '<label for="id_leave_empty">Leave this empty</label>' in trap.group(1)
    assert 'tabindex="-1"' in trap.group(1)
    assert 'autocomplete="off"' in trap.group(1)


# Validation


def test_a_missing_answer_is_named_in_a_linked_summary_and_the_input_is_kept(client, live):
    response = client.post(
        error_url(live), error_data(message="  ", location="The chart", email="reader@x.example")
    )

    assert response.status_code == 200
    content = response.content.decode()
    assert "<title>Error: " in content
    assert 'role="alert"' in content
    assert '<a href="#id_message">What is wrong?: Tell us what is wrong.</a>' in content
    assert 'aria-invalid="true"' in content
    assert 'aria-describedby="id_message_helptext id_message_error"' in content
    assert 'id="id_message_error"' in content
    assert 'value="The chart"' in content
    assert 'value="reader@x.example"' in content
    assert not ReaderMessage.objects.exists()


def test_a_bad_email_and_url_are_refused_with_their_field_named(client):
    response = client.post(
        SUGGEST_URL,
        suggestion_data(claim="Kept claim", claim_url="not a url", email="not-an-email"),
    )

    content = response.content.decode()
    assert response.status_code == 200
    assert '<a href="#id_email">Your email address (optional): Enter a valid email' in content
    assert '<a href="#id_claim_url">Where did it appear? (optional): Enter the full' in content
    assert "Kept claim</textarea>" in content
    assert not ReaderMessage.objects.exists()


def test_a_javascript_url_is_not_accepted_as_where_the_claim_appeared(client):
    client.post(SUGGEST_URL, suggestion_data(claim_url="javascript:alert(1)"))

    assert not ReaderMessage.objects.exists()


def test_readers_input_is_escaped_when_the_form_is_shown_again(client):
    response = client.post(SUGGEST_URL, suggestion_data(claim="", message=SCRIPT))

    content = response.content.decode()
    assert SCRIPT not in content
    assert "&lt;script&gt;" in content


@pytest.mark.parametrize(("field", "limit"), [("message", 2000), ("location", 500), ("email", 254)])
def test_an_answer_over_its_length_limit_is_refused_and_kept(client, live, field, limit):
    value = "x" * (limit + 1) if field != "email" else "a" * (limit - 11) + "@example.com"
    response = client.post(error_url(live), error_data(**{field: value}))

    assert response.status_code == 200
    assert f"at most {limit} characters" in response.content.decode()
    assert value in response.content.decode()
    assert not ReaderMessage.objects.exists()


def test_a_claim_over_500_characters_is_refused(client):
    response = client.post(SUGGEST_URL, suggestion_data(claim="y" * 501))

    assert "at most 500 characters" in response.content.decode()
    assert not ReaderMessage.objects.exists()


def test_a_null_character_is_refused_not_an_error(client, live):
    response = client.post(error_url(live), error_data(message="Wrong\x00date"))

    assert response.status_code == 200
    assert "Null characters are not allowed." in response.content.decode()
    assert not ReaderMessage.objects.exists()


# Abuse


def test_a_filled_honeypot_sees_the_thank_you_page_but_nothing_is_kept(client, live):
    response = client.post(
        error_url(live), error_data(leave_empty="http://spam.example"), follow=True
    )

    assert response.status_code == 200
    assert "reached our editors" in text_of(response)
    assert not ReaderMessage.objects.exists()


def test_a_body_far_over_the_limits_is_refused_with_413(client, live):
    response = client.post(error_url(live), error_data(message="x" * 70_000))

    assert response.status_code == 413
    assert "Message too long" in text_of(response)
    assert not ReaderMessage.objects.exists()


def test_a_body_over_the_sites_limit_is_a_413_before_the_csrf_check_reads_it(live):
    # The CSRF check would read the body before the view: the body limit (factually/
    # bodylimit.py, 256 KiB outside the admin) refuses it first, on its Content-Length.
    client, token = csrf_client(error_url(live))
    data = {**error_data(message="x" * 3_000_000), "csrfmiddlewaretoken": token}

    response = client.post(error_url(live), data)

    assert response.status_code == 413
    assert not ReaderMessage.objects.exists()


@pytest.mark.parametrize(
    "post",
    [
        pytest.param(
            lambda c, url: c.post(url, '{"message": "hi"}', content_type="application/json"),
            id="json",
        ),
        pytest.param(lambda c, url: c.post(url, {"message": "hi"}), id="fields missing"),
        pytest.param(
            lambda c, url: c.post(url, error_data(message=["one", "two"])), id="field twice"
        ),
    ],
)
def test_a_request_the_form_never_sends_is_refused_with_400(client, live, post):
    response = post(client, error_url(live))

    assert response.status_code == 400
    assert "Message not understood" in text_of(response)
    assert not ReaderMessage.objects.exists()


def test_a_post_without_the_csrf_token_is_refused(live):
    client = Client(enforce_csrf_checks=True)

    assert client.post(error_url(live), error_data()).status_code == 403
    assert client.post(SUGGEST_URL, suggestion_data()).status_code == 403
    assert not ReaderMessage.objects.exists()

    # With the token from the page, the same post goes through.
    client, token = csrf_client(SUGGEST_URL)
    response = client.post(SUGGEST_URL, {**suggestion_data(), "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert ReaderMessage.objects.count() == 1


def test_the_sixth_submission_in_the_window_is_refused_with_429_and_retry_after(live):
    # Two clients share nothing but the address: the count lives in the cache.
    first, second = Client(), Client()

    for n in range(feedback.RATE_LIMIT):
        response = (first, second)[n % 2].post(error_url(live), error_data(message=f"No. {n}"))
        assert response.status_code == 302, n
    response = second.post(error_url(live), error_data(message="One too many"))

    assert response.status_code == 429
    assert response["Retry-After"] == str(RETRY_AFTER)
    assert "Too many messages" in text_of(response)
    assert "try again in 10 minutes" in text_of(response)
    assert ReaderMessage.objects.count() == feedback.RATE_LIMIT
    # Refused before reading the form, even when the post is not valid.
    assert first.post(error_url(live), error_data(message="")).status_code == 429


def test_the_limit_is_per_address_and_per_form(client, live):
    for _ in range(feedback.RATE_LIMIT):
        client.post(error_url(live), error_data())
    assert client.post(error_url(live), error_data()).status_code == 429

    other_address = client.post(error_url(live), error_data(), REMOTE_ADDR="203.0.113.9")
    other_form = client.post(SUGGEST_URL, suggestion_data())

    assert other_address.status_code == 302
    assert other_form.status_code == 302


def test_the_limit_lives_in_the_cache_and_a_new_window_starts_afresh(client, live, monkeypatch):
    for _ in range(feedback.RATE_LIMIT):
        client.post(SUGGEST_URL, suggestion_data())
    assert client.post(SUGGEST_URL, suggestion_data()).status_code == 429

    cache.clear()
    assert client.post(SUGGEST_URL, suggestion_data()).status_code == 302

    for _ in range(feedback.RATE_LIMIT):
        client.post(SUGGEST_URL, suggestion_data())
    monkeypatch.setattr(feedback, "_now", lambda: NOW + RETRY_AFTER)
    assert client.post(SUGGEST_URL, suggestion_data()).status_code == 302


def test_honeypot_submissions_count_against_the_limit(client):
    for _ in range(feedback.RATE_LIMIT):
        client.post(SUGGEST_URL, suggestion_data(leave_empty="spam"))

    assert client.post(SUGGEST_URL, suggestion_data()).status_code == 429


def test_forwarded_for_is_ignored_unless_proxies_are_trusted(client, settings):
    settings.FACTUALLY_TRUSTED_PROXY_COUNT = 0
    for n in range(feedback.RATE_LIMIT):
        client.post(SUGGEST_URL, suggestion_data(), HTTP_X_FORWARDED_FOR=f"198.51.100.{n}")

    spoofed = client.post(SUGGEST_URL, suggestion_data(), HTTP_X_FORWARDED_FOR="198.51.100.99")

    assert spoofed.status_code == 429


def test_behind_a_trusted_proxy_each_forwarded_client_is_counted_apart(client, settings):
    settings.FACTUALLY_TRUSTED_PROXY_COUNT = 1
    # The proxy appends the address it saw; what the client wrote before it is not trusted.
    for n in range(feedback.RATE_LIMIT):
        client.post(
            SUGGEST_URL, suggestion_data(), HTTP_X_FORWARDED_FOR=f"10.9.9.{n}, 198.51.100.7"
        )

    same_client = client.post(
        SUGGEST_URL, suggestion_data(), HTTP_X_FORWARDED_FOR="10.9.9.77, 198.51.100.7"
    )
    other_client = client.post(SUGGEST_URL, suggestion_data(), HTTP_X_FORWARDED_FOR="198.51.100.8")

    assert same_client.status_code == 429
    assert other_client.status_code == 302


def test_an_unreachable_cache_does_not_break_the_forms(client, settings):
    # Nothing listens on port 1: every cache call fails at once.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }
    pytest.importorskip("redis", reason="Django's RedisCache needs the redis package")

    response = client.post(SUGGEST_URL, suggestion_data())

    assert response.status_code == 302
    assert ReaderMessage.objects.count() == 1


REDIS_URL = "redis://127.0.0.1:6379/15"


@pytest.fixture
def redis_cache(settings):
    """Django's own RedisCache on the local Redis (database 15), under a prefix of its own so
    concurrent runs do not meet; skipped, with the reason, when Redis is not there."""
    redis = pytest.importorskip("redis", reason="the redis package is not installed")
    raw = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        raw.ping()
    except redis.RedisError as error:
        pytest.skip(f"Redis is not reachable at {REDIS_URL}: {error}")
    prefix = f"factually-test-{uuid.uuid4().hex}"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": prefix,
        }
    }
    yield raw, prefix
    for key in raw.scan_iter(f"{prefix}:*"):
        raw.delete(key)
    raw.close()


def test_the_counter_is_shared_through_redis(live, redis_cache):
    raw, prefix = redis_cache
    # Two clients stand for two app servers: they share only Redis.
    first, second = Client(), Client()

    for n in range(feedback.RATE_LIMIT):
        assert first.post(error_url(live), error_data(message=f"No. {n}")).status_code == 302
    refused = second.post(error_url(live), error_data())

    assert refused.status_code == 429
    assert refused["Retry-After"] == str(RETRY_AFTER)
    # The count is in Redis, where any server reads it, and expires with its window.
    [key] = list(raw.scan_iter(f"{prefix}:*"))
    assert b"feedback:error:127.0.0.1:" in key
    assert int(raw.get(key)) == feedback.RATE_LIMIT
    assert 0 < raw.ttl(key) <= RETRY_AFTER + 1
    # Another process clearing the count lets this one through: no state in memory here.
    raw.delete(key)
    assert second.post(error_url(live), error_data()).status_code == 302
    assert ReaderMessage.objects.count() == feedback.RATE_LIMIT + 1


# Which reports have a form


def test_a_draft_has_no_error_form(client):
    draft = make_report(slug="draft")

    assert client.get(error_url(draft)).status_code == 404
    assert client.post(error_url(draft), error_data()).status_code == 404
    assert client.get(error_url("no-such-report")).status_code == 404
    assert not ReaderMessage.objects.exists()


def test_a_withdrawn_or_unpublished_report_has_no_error_form(client):
    withdrawn = make_report(slug="withdrawn")
    publish_now(withdrawn)
    workflow.withdraw(withdrawn, by=None, reason="Our source was fabricated.")
    unpublished = make_report(slug="unpublished")
    publish_now(unpublished)
    workflow.unpublish(unpublished, by=None, comment="Published by mistake.")

    for report in [withdrawn, unpublished]:
        assert client.get(error_url(report)).status_code == 404
        assert client.post(error_url(report), error_data()).status_code == 404
    assert not ReaderMessage.objects.exists()


def test_the_admin_preview_has_no_error_link(editor_client, live):
    response = editor_client.get(reverse("admin:reports_report_preview", args=[live.pk]))

    assert "report-error" not in response.content.decode()


# The queue in the admin


@pytest.fixture
def queued(live):
    error = feedback.submit_error(
        version=live.versions.get(), message=f"Wrong {SCRIPT}", location=SCRIPT
    )
    suggestion = feedback.submit_suggestion(
        claim=f"Claim {SCRIPT}", claim_url="https://x.example/?q=<b>", message=SCRIPT
    )
    return error, suggestion


QUEUE = "admin:reports_readermessage_changelist"


@pytest.mark.parametrize("role", [roles.EDITOR, roles.REVIEWER])
def test_editors_and_reviewers_see_the_queue_and_change_a_status(client, queued, role):
    error, _ = queued
    member = make_user("member", role)
    client.force_login(member)

    listing = client.get(reverse(QUEUE))
    assert listing.status_code == 200
    assert "Bananas are blue." in listing.content.decode()

    response = client.post(
        reverse("admin:reports_readermessage_change", args=[error.pk]),
        {"status": "in_progress", "assigned_to": member.pk, "internal_note": "On it."},
    )
    assert response.status_code == 302
    error.refresh_from_db()
    assert (error.status, error.assigned_to, error.internal_note) == (
        "in_progress",
        member,
        "On it.",
    )
    # What the reader sent cannot be edited from the admin.
    assert error.message == f"Wrong {SCRIPT}"


def test_list_actions_change_the_status_of_the_selection(client, queued, writer):
    client.force_login(writer)
    ids = [message.pk for message in queued]

    client.post(reverse(QUEUE), {"action": "mark_answered", "_selected_action": ids})
    assert set(ReaderMessage.objects.values_list("status", flat=True)) == {"answered"}
    assert LogEntry.objects.filter(user=writer, change_message="Marked answered.").count() == 2

    client.post(reverse(QUEUE), {"action": "assign_to_me", "_selected_action": ids[:1]})
    assert ReaderMessage.objects.get(pk=ids[0]).assigned_to == writer


def test_the_queue_filters_by_status_and_kind_and_searches(editor_client, queued):
    error, suggestion = queued
    ReaderMessage.objects.filter(pk=error.pk).update(status="dismissed")

    by_status = editor_client.get(reverse(QUEUE), {"status__exact": "dismissed"})
    by_kind = editor_client.get(reverse(QUEUE), {"kind__exact": "suggestion"})
    by_search = editor_client.get(reverse(QUEUE), {"q": "Bananas"})

    assert by_status.context["cl"].result_count == 1
    assert list(by_kind.context["cl"].result_list) == [suggestion]
    assert list(by_search.context["cl"].result_list) == [error]


def test_a_curator_cannot_see_the_queue(client, queued, curator):
    client.force_login(curator)

    assert client.get(reverse(QUEUE)).status_code == 403
    change = reverse("admin:reports_readermessage_change", args=[queued[0].pk])
    assert client.get(change).status_code == 403
    assert client.post(change, {"status": "dismissed"}).status_code == 403
    assert ReaderMessage.objects.get(pk=queued[0].pk).status == "new"


def test_nobody_adds_messages_in_the_admin(client, writer):
    client.force_login(writer)

    assert client.get(reverse("admin:reports_readermessage_add")).status_code == 403


def test_readers_script_is_shown_escaped_in_the_admin(editor_client, queued):
    pages = [editor_client.get(reverse(QUEUE))] + [
        editor_client.get(reverse("admin:reports_readermessage_change", args=[message.pk]))
        for message in queued
    ]

    for page in pages:
        content = page.content.decode()
        assert page.status_code == 200
        assert "<script>alert" not in content
        assert "&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt;" in content
        assert "<b>" not in content
