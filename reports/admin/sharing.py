"""The site's default share image: uploaded here, checked by reports.public.sharing."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from reports.public import sharing
from reports.public.models import ShareImage


class ShareImageForm(forms.ModelForm):
    upload = forms.FileField(
        label="Image",
        help_text="A PNG or JPEG, at most 3 MB, each side 200 to 4096 pixels; 1200×630 shows "
        "best. Link previews of pages without a share card of their own show it.",
    )

    class Meta:
        model = ShareImage
        fields = []

    def clean_upload(self):
        upload = self.cleaned_data["upload"]
        # Read at most one byte past the limit: a bigger file is refused by its size.
        data = upload.read(sharing.IMAGE_MAX_BYTES + 1)
        self.image_fields = sharing.read_image(data)
        return upload


@admin.register(ShareImage)
class ShareImageAdmin(admin.ModelAdmin):
    form = ShareImageForm
    list_display = ["__str__", "uploaded_at"]
    readonly_fields = ["shown"]

    def get_fields(self, request, obj=None):
        return ["upload", "shown"] if obj else ["upload"]

    @admin.display(description="Now")
    def shown(self, obj):
        return format_html(
            '<img src="{}?v={}" alt="" width="300"> {}×{} {}',
            reverse("reports:share_site_image"),
            obj.digest[:12],
            obj.width,
            obj.height,
            obj.content_type,
        )

    def save_model(self, request, obj, form, change):
        for name, value in form.image_fields.items():
            setattr(obj, name, value)
        super().save_model(request, obj, form, change)
        # One default: a new upload replaces the old one.
        ShareImage.objects.exclude(pk=obj.pk).delete()
