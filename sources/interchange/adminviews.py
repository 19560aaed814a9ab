"""The admin's "Import sources" pages and its "Export selected as CSL-JSON" action.

Upload → preview → confirm. The preview saves nothing; it carries the file's text to the
confirm step inside the form, signed (django.core.signing) for this user, so any app server
can finish the import: no upload is kept in memory or on disk between the two requests.
Confirming reads and plans the file again against the library as it is then, in the same
transaction that saves it. A file with refused entries is imported whole or not at all,
unless the curator chooses to leave the refused out (their list downloads as CSV); matched
records whose empty fields the file can fill are filled on the rows the curator ticks.
"""

from __future__ import annotations

import csv
import io
import json

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.text import get_valid_filename

from factually.admin_pages import admin_page_context
from sources import interchange
from sources.interchange import FORMATS, ImportRefused, csl

# A preview may be confirmed for this long.
PAYLOAD_MAX_AGE = 6 * 60 * 60
SALT = "sources.interchange.import"
# The preview posts the file back inside the form, signed and compressed, and Django refuses
# request bodies over DATA_UPLOAD_MAX_MEMORY_SIZE: keep the file small enough to fit even if
# it does not compress (base64 adds a third). Larger files: manage.py import_sources.
_LIMIT = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
MAX_UPLOAD_BYTES = (_LIMIT * 3 // 4 - 64 * 1024) if _LIMIT else 10 * 1024 * 1024
TOO_LARGE = "This file is too large to import here; use manage.py import_sources."


class UploadForm(forms.Form):
    file = forms.FileField(
        help_text=(
            "CSL-JSON (.json, as Zotero and Mendeley export it), BibTeX (.bib) or CSV (.csv), "
            f"UTF-8, at most {round(MAX_UPLOAD_BYTES / 1024 / 1024, 1)} MB."
        )
    )
    format = forms.ChoiceField(
        choices=[("", "From the file name"), *FORMATS.items()], required=False
    )

    def clean(self):
        cleaned = super().clean()
        upload = cleaned.get("file")
        if upload is None:
            return cleaned
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(TOO_LARGE)
        try:
            cleaned["format"] = interchange.format_for(upload.name, cleaned.get("format", ""))
            cleaned["text"] = interchange.decode(upload.read(), upload.name)
        except ImportRefused as refusal:
            raise forms.ValidationError(str(refusal)) from None
        return cleaned


class Utf8JSONSerializer:
    """JSON as UTF-8: Django's default escapes every non-ASCII character to six bytes."""

    def dumps(self, obj) -> bytes:
        return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()

    def loads(self, data: bytes):
        return json.loads(data.decode())


def _salt(request) -> str:
    return f"{SALT}:{request.user.pk}"


def sign_upload(request, *, name: str, format: str, text: str) -> str:
    """The upload as one signed, compressed string, valid for this user only."""
    return signing.dumps(
        {"name": name, "format": format, "text": text},
        salt=_salt(request),
        serializer=Utf8JSONSerializer,
        compress=True,
    )


def unsign_upload(request, payload: str) -> dict:
    """The upload a preview carried; raises signing.BadSignature if altered or too old."""
    data = signing.loads(
        payload, salt=_salt(request), serializer=Utf8JSONSerializer, max_age=PAYLOAD_MAX_AGE
    )
    if not isinstance(data, dict) or not {"name", "format", "text"} <= data.keys():
        raise signing.BadSignature("Not an upload.")
    return data


class SourceInterchangeMixin:
    """For SourceAdmin: the import pages and the CSL-JSON export action."""

    def get_urls(self):
        return [
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name="sources_source_import",
            ),
            path(
                "import/refused/",
                self.admin_site.admin_view(self.import_refused_view),
                name="sources_source_import_refused",
            ),
            *super().get_urls(),
        ]

    @admin.action(description="Export selected as CSL-JSON", permissions=["view"])
    def export_selected_as_csl(self, request, queryset):
        sources = queryset.select_related("publisher").order_by("pk")
        response = HttpResponse(csl.dumps(sources), content_type=f"{csl.MEDIA_TYPE}; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="sources.json"'
        return response

    def import_view(self, request):
        if not self.has_add_permission(request):
            raise PermissionDenied
        if request.method == "POST" and "payload" in request.POST:
            return self._import_confirm(request)
        form = UploadForm(
            request.POST if request.method == "POST" else None,
            request.FILES if request.method == "POST" else None,
        )
        if not form.is_valid():
            return self._import_page(request, form, status=400 if form.is_bound else 200)
        upload, fmt, text = (
            form.cleaned_data["file"],
            form.cleaned_data["format"],
            form.cleaned_data["text"],
        )
        name = get_valid_filename(upload.name) or "upload"
        try:
            plan = interchange.plan_file(text, fmt, name, **self._import_options(request))
        except ImportRefused as refusal:
            form.add_error("file", str(refusal))
            return self._import_page(request, form, status=400)
        payload = sign_upload(request, name=name, format=fmt, text=text) if plan.importable else ""
        if _LIMIT and len(payload) > _LIMIT - 16 * 1024:
            form.add_error("file", TOO_LARGE)
            return self._import_page(request, form, status=400)
        return self._preview_page(request, plan, payload)

    def _upload_or_page(self, request):
        """The signed upload the preview posted, or the upload page saying what is wrong."""
        try:
            return unsign_upload(request, request.POST.get("payload", "")), None
        except signing.SignatureExpired:
            error = "This preview is too old to import from: upload the file again."
        except signing.BadSignature:
            error = (
                "The import could not be verified (the form was altered): upload the file again."
            )
        return None, self._import_page(request, UploadForm(), error=error, status=400)

    def import_refused_view(self, request):
        """The refused entries of a previewed file, as CSV: entry, field, problem."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        if request.method != "POST":
            return redirect("admin:sources_source_import")
        upload, page = self._upload_or_page(request)
        if page is not None:
            return page
        try:
            plan = interchange.plan_file(
                upload["text"], upload["format"], upload["name"], **self._import_options(request)
            )
        except ImportRefused as refusal:
            return self._import_page(request, UploadForm(), error=str(refusal), status=400)
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["file", "entry", "field", "problem"])
        for where, field, problem in plan.refusals():
            writer.writerow([upload["name"], where, field, problem])
        response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
        stem = upload["name"].rsplit(".", 1)[0] or "import"
        response["Content-Disposition"] = f'attachment; filename="{stem}-refused.csv"'
        return response

    def _import_confirm(self, request):
        upload, page = self._upload_or_page(request)
        if page is not None:
            return page
        name = upload["name"]
        leave_refused = request.POST.get("leave_refused") == "1"
        # Leaving out more (or other) entries than the curator saw is not what they chose.
        expected_refused = request.POST.get("refused", "")
        fill = {int(p) for p in request.POST.getlist("fill") if p.isdigit()}
        try:
            with transaction.atomic():
                plan = interchange.plan_file(
                    upload["text"], upload["format"], name, **self._import_options(request)
                )
                chosen = leave_refused and str(plan.refused) == expected_refused
                if plan.ok or (chosen and plan.importable):
                    plan.apply(by=request.user, leave_refused=chosen, fill=fill)
        except ImportRefused as refusal:
            return self._import_page(request, UploadForm(), error=str(refusal), status=400)
        except IntegrityError:
            return self._import_page(
                request,
                UploadForm(),
                error="The library changed while importing; nothing was saved. "
                "Upload the file again to see what it holds now.",
                status=409,
            )
        if not plan.applied:
            # The library changed since the preview: show what would happen now.
            return self._preview_page(request, plan, "", status=409)
        left_out = " (left out)" if plan.refused else ""
        filled = len(plan.filled)
        filled = f"; empty fields filled in {filled} record{'s' * (filled != 1)}" if filled else ""
        messages.success(request, f"Imported {name}: {plan.summary()}{left_out}{filled}.")
        return redirect("admin:sources_source_changelist")

    def _import_options(self, request) -> dict:
        return {"create_publishers": request.user.has_perm("sources.add_publisher")}

    def _import_page(self, request, form, *, error="", status=200):
        context = admin_page_context(
            request,
            self,
            title="Import sources",
            has_view_permission=self.has_view_permission(request),
            form=form,
            error=error,
        )
        return TemplateResponse(request, "admin/sources/source/import.html", context, status=status)

    def _preview_page(self, request, plan, payload, *, status=200):
        context = admin_page_context(
            request,
            self,
            title=f"Import sources from {plan.filename}",
            has_view_permission=self.has_view_permission(request),
            plan=plan,
            payload=payload,
            format_name=FORMATS[plan.format],
        )
        return TemplateResponse(
            request, "admin/sources/source/import_preview.html", context, status=status
        )
