"""The "Cite a source" panel of the report change form: find a source, or add one, and cite it.

The views only ask and show; finding, adding and citing live in `reports.newsroom.citing`.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import urlencode

from factually.admin_pages import admin_page_context
from reports.admin.forms import NewSourceForm
from reports.admin.pages import partial_response
from reports.newsroom import citing
from sources.models import Source


class CitingViewsMixin:
    """For ReportAdmin: the cite view (its URL is routed by ReportAdmin.get_urls)."""

    def cite_view(self, request, object_id):
        """GET finds sources (`?q=`) or resolves a pasted URL; POST cites one.

        A partial for htmx, else the whole page; a plain POST goes back to the report.
        """
        report = self._get_report(request, object_id)
        if not self.has_change_permission(request, report):
            raise PermissionDenied
        if request.method == "POST":
            return self._cite(request, report)
        lookup = citing.lookup(request.GET.get("q", ""), report=report)
        new_source_form = None
        if lookup.resolution is not None and lookup.resolution.is_new:
            new_source_form = NewSourceForm(initial=lookup.resolution.initial())
        return self._cite_response(request, report, lookup=lookup, new_source_form=new_source_form)

    def _cite(self, request, report):
        """POST: cite the chosen source, or the pasted URL's (added to the library if new)."""
        source_added = False
        try:
            if "source" in request.POST:
                reference = citing.cite(report, self._posted_source(request), by=request.user)
            else:
                if not request.user.has_perm("sources.add_source"):
                    raise PermissionDenied
                form = NewSourceForm(request.POST)
                if not form.is_valid():
                    return self._cite_response(request, report, new_source_form=form)
                reference, source_added = citing.cite_url(
                    report, by=request.user, **form.cleaned_data
                )
        except citing.AlreadyCited as already:
            return self._cited_response(request, report, already.reference, added=False)
        except citing.CiteRefused as refusal:
            if request.htmx:
                return self._cite_response(request, report, cite_error=str(refusal))
            messages.error(request, str(refusal))
            return redirect(self._cite_url(report, request.POST.get("q", "")))
        if source_added:
            self.log_addition(request, reference.source, "Added while citing it in a report.")
        message = f"Added reference [{reference.number}] citing “{reference.source}”."
        self.log_change(request, report, message)
        return self._cited_response(
            request, report, reference, added=True, source_added=source_added
        )

    def _posted_source(self, request) -> Source:
        source_id = request.POST.get("source", "")
        source = Source.objects.filter(pk=source_id).first() if source_id.isdigit() else None
        if source is None:
            raise citing.CiteRefused("That source is no longer in the library: search again.")
        return source

    def _cited_response(self, request, report, reference, *, added, source_added=False):
        """The marker to paste: in the panel for htmx, else as a message on the report."""
        if request.htmx:
            cited = {"reference": reference, "added": added, "source_added": source_added}
            return self._cite_response(request, report, cited=cited)
        if added:
            text = "Added as reference [{}]: paste [{}] where you cite it."
            messages.success(request, format_html(text, reference.number, reference.number))
        else:
            text = "This report already cites “{}” as reference [{}]: paste [{}] where you cite it."
            messages.info(
                request, format_html(text, reference.source, reference.number, reference.number)
            )
        return redirect("admin:reports_report_change", report.pk)

    def _cite_response(self, request, report, *, lookup=None, **context):
        context = admin_page_context(
            request,
            self,
            title=f"Cite a source: “{report.claim}”",
            obj=report,
            change_url=reverse("admin:reports_report_change", args=[report.pk]),
            cite_url=reverse("admin:reports_report_cite", args=[report.pk]),
            cite_query=lookup.query if lookup else request.POST.get("q", ""),
            lookup=lookup or citing.Lookup(),
            may_add_source=request.user.has_perm("sources.add_source"),
            **context,
        )
        return partial_response(request, "admin/reports/report/cite.html", context)

    def _cite_url(self, report, query: str = "") -> str:
        url = reverse("admin:reports_report_cite", args=[report.pk])
        return f"{url}?{urlencode({'q': query})}" if query else url
