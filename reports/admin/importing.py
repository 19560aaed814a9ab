"""The admin's "Import from text" page: paste (or upload) a report, preview it, confirm.

Nothing is saved before the editor confirms. The preview carries the text to the confirm
step inside the form, where it is read again (`reports.formats.importing`) and saved: no text is
kept on the server between the two requests, so any app server can finish an import.
The text is the editor's own, so it travels as it is: confirming an altered text imports
what it says now, through the same reading and checks.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.html import format_html

from factually.admin_pages import admin_page_context
from reports import citations
from reports.admin.forms import ImportTextForm
from reports.formats import importing, textformat
from reports.formats.errors import TextFormatError

# Lines shown around the one a refusal names.
_CONTEXT_LINES = 2


class ImportTextMixin:
    """For ReportAdmin: the "Import from text" page and its link on the report list."""

    change_list_template = "admin/reports/report/change_list.html"

    def get_urls(self):
        return [
            path(
                "import-text/",
                self.admin_site.admin_view(self.import_text_view),
                name="reports_report_import_text",
            ),
            *super().get_urls(),
        ]

    def import_text_view(self, request):
        """GET: the form. POST: the preview, or with "confirm" the draft (then its page)."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        if request.method != "POST":
            return self._import_text_page(request, ImportTextForm())
        form = ImportTextForm(request.POST, request.FILES)
        if not form.is_valid():
            return self._import_text_page(request, form, status=400)
        text, filename, partial = (form.cleaned_data[k] for k in ("text", "filename", "partial"))
        # Shown again below the preview or the refusal, the text ready to change.
        again = ImportTextForm(initial={"text": text, "filename": filename, "partial": partial})
        try:
            if "confirm" not in request.POST:
                result = importing.preview_import(text, filename=filename, partial=partial)
                return self._import_text_page(request, again, result=result, text=text)
            result = importing.import_text(
                text, filename=filename, author=request.user, partial=partial
            )
        except TextFormatError as error:
            return self._import_text_page(request, again, error=error, text=text, status=400)
        report = result.report
        self.log_addition(request, report, f"Imported from {filename}.")
        messages.success(
            request,
            format_html(
                "Imported “{}” as a draft from {}: choose its verdict and link its {} "
                "reference{} to sources.",
                report.claim,
                filename,
                result.reference_count,
                "" if result.reference_count == 1 else "s",
            ),
        )
        for note in result.notes:
            messages.info(request, note)
        for problem in result.problems:
            messages.warning(request, str(problem))
        return redirect("admin:reports_report_change", report.pk)

    def _import_text_page(
        self, request, form, *, result=None, error=None, text="", status=200
    ) -> TemplateResponse:
        context = admin_page_context(
            request,
            self,
            title="Import from text",
            has_view_permission=self.has_view_permission(request),
            form=form,
            text=text,
            error=error,
            error_lines=_lines_around(text, error.line) if error else [],
        )
        if result is not None:
            content = result.content
            known = ()  # nothing is linked yet: markers show as unresolved
            context.update(
                result=result,
                summary_html=citations.render(content.summary, known=known),
                sections=[
                    (s.heading, citations.render(s.body, known=known)) for s in content.sections
                ],
                conclusion_html=citations.render(content.conclusion, known=known),
            )
        return TemplateResponse(
            request, "admin/reports/report/import_text.html", context, status=status
        )


def _lines_around(text: str, line: int) -> list[tuple[int, str, bool]]:
    """The numbered lines of `text` around `line`, flagging that one, to show a refusal."""
    lines = textformat.split_lines(text)
    first = max(1, line - _CONTEXT_LINES)
    last = min(len(lines), line + _CONTEXT_LINES)
    return [(n, lines[n - 1], n == line) for n in range(first, last + 1)]
