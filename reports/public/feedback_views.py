"""Public pages where readers report an error in a report or suggest a claim to check.

Each form posts back to itself and redirects to a thank-you page (Post/Redirect/Get).
Refusals are pages a person can read: 429 with Retry-After when an address sent too many,
413 for a body far larger than the form allows, 400 for a request no browser sends from it.
"""

from __future__ import annotations

import logging

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from factually.clients import client_address
from reports.models import PublishedVersion
from reports.public import feedback
from reports.public.forms import ClaimSuggestionForm, ErrorReportForm

logger = logging.getLogger(__name__)

FORM_CONTENT_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


@never_cache
@require_http_methods(["GET", "POST"])
def report_error(request, slug):
    """Tell the newsroom about an error in a live report; drafts and withdrawn reports 404."""
    live = _live_version(slug)
    if request.method != "POST":
        shown = _shown_version(live, request.GET.get("version"))
        form = ErrorReportForm(initial={"version": shown})
        return _form_page(request, "reports/feedback/report_error.html", form, live=live)
    if refusal := _refusal(request, ErrorReportForm, feedback.ERROR_FORM):
        return refusal
    form = ErrorReportForm(request.POST)
    if not form.is_valid():
        return _form_page(request, "reports/feedback/report_error.html", form, live=live)
    if limited := feedback.count_submission(feedback.ERROR_FORM, client_address(request)):
        return _too_many(request, limited)
    if form.is_bot:
        logger.info("Error report discarded: the honeypot field was filled in.")
    else:
        number = _shown_version(live, form.cleaned_data.get("version"))
        shown = live if number == live.number else _version(live, number)
        feedback.submit_error(
            version=shown,
            message=form.cleaned_data["message"],
            location=form.cleaned_data["location"],
            email=form.cleaned_data["email"],
        )
    messages.success(
        request, f"Thank you. Your report of an error in “{live.claim}” reached our editors."
    )
    return redirect("reports:report_error_thanks", slug=live.slug)


@never_cache
@require_http_methods(["GET", "POST"])
def suggest_claim(request):
    """Suggest a claim for the newsroom to check."""
    if request.method != "POST":
        return _form_page(request, "reports/feedback/suggest_claim.html", ClaimSuggestionForm())
    if refusal := _refusal(request, ClaimSuggestionForm, feedback.SUGGESTION_FORM):
        return refusal
    form = ClaimSuggestionForm(request.POST)
    if not form.is_valid():
        return _form_page(request, "reports/feedback/suggest_claim.html", form)
    address = client_address(request)
    if limited := feedback.count_submission(feedback.SUGGESTION_FORM, address):
        return _too_many(request, limited)
    if form.is_bot:
        logger.info("Claim suggestion discarded: the honeypot field was filled in.")
    else:
        feedback.submit_suggestion(
            claim=form.cleaned_data["claim"],
            claim_url=form.cleaned_data["claim_url"],
            message=form.cleaned_data["message"],
            email=form.cleaned_data["email"],
        )
    messages.success(request, "Thank you. Your suggestion reached our editors.")
    return redirect("reports:suggest_claim_thanks")


@never_cache
@require_GET
def report_error_thanks(request, slug):
    live = PublishedVersion.objects.live().filter(slug=slug).only("slug", "claim").first()
    return render(request, "reports/feedback/thanks.html", {"live": live, "kind": "error"})


@never_cache
@require_GET
def suggest_claim_thanks(request):
    return render(request, "reports/feedback/thanks.html", {"kind": "suggestion"})


# Helpers ------------------------------------------------------------------------------------


def _live_version(slug: str) -> PublishedVersion:
    live = (
        PublishedVersion.objects.live()
        .filter(slug=slug)
        .only("slug", "claim", "number", "report_id")
        .first()
    )
    if live is None:
        raise Http404("No report is published at this address.")
    return live


def _shown_version(live: PublishedVersion, value) -> int:
    """The version number the reader was reading: `value` if it is one of the report's
    published versions, else the live one."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return live.number
    return number if 1 <= number <= live.number else live.number


def _version(live: PublishedVersion, number: int) -> PublishedVersion:
    return (
        PublishedVersion.objects.filter(report_id=live.report_id, number=number)
        .only("report_id", "number")
        .first()
        or live
    )


def _form_page(request, template: str, form, **context):
    return render(request, template, {"form": form, **context})


def _refusal(request, form_class, form_name: str):
    """A refusal page if this POST is too large, malformed or over its address's limit."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > feedback.MAX_BODY_BYTES:
        return _refused(request, "too_large", status=413)
    if request.content_type not in FORM_CONTENT_TYPES or not _sent_by_the_form(request, form_class):
        return _refused(request, "malformed", status=400)
    if limited := feedback.check_limit(form_name, client_address(request)):
        return _too_many(request, limited)
    return None


def _sent_by_the_form(request, form_class) -> bool:
    """Whether the POST carries each of the form's fields once, as the page's form sends it."""
    return all(len(request.POST.getlist(name)) == 1 for name in form_class.base_fields)


def _too_many(request, limited: feedback.Limited):
    response = _refused(
        request, "too_many", status=429, minutes=max(1, -(-limited.retry_after // 60))
    )
    response["Retry-After"] = str(limited.retry_after)
    return response


def _refused(request, reason: str, *, status: int, **context):
    return render(
        request,
        "reports/feedback/refused.html",
        {"reason": reason, **context},
        status=status,
    )
