"""The reader messages queue: error reports and claim suggestions sent from the public site."""

from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html

from reports.models import ReaderMessage


@admin.register(ReaderMessage)
class ReaderMessageAdmin(admin.ModelAdmin):
    """The queue of readers' error reports and claim suggestions.

    What the reader sent is read-only and always shown escaped; the newsroom sets the
    status, who handles the message and an internal note. Readers send, nobody adds here.
    """

    list_display = ["summary", "kind", "about", "status", "assigned_to", "created_at"]
    list_display_links = ["summary"]
    list_filter = ["status", "kind", ("assigned_to", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["report", "assigned_to"]
    search_fields = ["message", "claim", "location", "email", "report__claim", "internal_note"]
    date_hierarchy = "created_at"
    actions = ["mark_in_progress", "mark_answered", "mark_dismissed", "mark_new", "assign_to_me"]
    readonly_fields = [
        "kind",
        "created_at",
        "report_link",
        "version_number",
        "location",
        "claim",
        "claim_url",
        "message",
        "email_link",
    ]
    newsroom_fieldset = ("Newsroom", {"fields": ["status", "assigned_to", "internal_note"]})

    def get_fieldsets(self, request, obj=None):
        if obj is not None and obj.kind == ReaderMessage.Kind.SUGGESTION:
            sent = ["kind", "created_at", "claim", "claim_url", "message", "email_link"]
        else:
            sent = [
                "kind",
                "created_at",
                "report_link",
                "version_number",
                "location",
                "message",
                "email_link",
            ]
        return [("From the reader", {"fields": sent}), self.newsroom_fieldset]

    def has_add_permission(self, request):
        return False

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "assigned_to":
            kwargs["queryset"] = db_field.remote_field.model._default_manager.filter(
                is_staff=True, is_active=True
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description="message")
    def summary(self, obj):
        # Plain text: the admin escapes it.
        text = obj.claim if obj.kind == ReaderMessage.Kind.SUGGESTION else obj.message
        return text if len(text) <= 120 else text[:119] + "…"

    @admin.display(description="about")
    def about(self, obj):
        if obj.report_id is None:
            return "—"
        return format_html(
            '<a href="{}">{}</a> (version {})',
            reverse("admin:reports_report_change", args=[obj.report_id]),
            obj.report.claim,
            obj.version_number,
        )

    @admin.display(description="report")
    def report_link(self, obj):
        if obj.report_id is None:
            return "—"
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:reports_report_change", args=[obj.report_id]),
            obj.report.claim,
        )

    @admin.display(description="reader's email")
    def email_link(self, obj):
        if not obj.email:
            return "—"
        return format_html('<a href="mailto:{}">{}</a>', obj.email, obj.email)

    def _set(self, request, queryset, done: str, **values):
        """Set `values` (attribute names) on each selected message that differs; log each."""
        changed = 0
        for message in queryset:
            if all(getattr(message, name) == value for name, value in values.items()):
                continue
            for name, value in values.items():
                setattr(message, name, value)
            message.save(update_fields=[*values, "updated_at"])
            self.log_change(request, message, f"{done}.")
            changed += 1
        self.message_user(request, f"{done}: {changed} message(s).", messages.SUCCESS)

    @admin.action(description="Mark selected messages as in progress", permissions=["change"])
    def mark_in_progress(self, request, queryset):
        self._set(request, queryset, "Marked in progress", status=ReaderMessage.Status.IN_PROGRESS)

    @admin.action(description="Mark selected messages as answered", permissions=["change"])
    def mark_answered(self, request, queryset):
        self._set(request, queryset, "Marked answered", status=ReaderMessage.Status.ANSWERED)

    @admin.action(description="Dismiss selected messages", permissions=["change"])
    def mark_dismissed(self, request, queryset):
        self._set(request, queryset, "Dismissed", status=ReaderMessage.Status.DISMISSED)

    @admin.action(description="Mark selected messages as new again", permissions=["change"])
    def mark_new(self, request, queryset):
        self._set(request, queryset, "Marked new", status=ReaderMessage.Status.NEW)

    @admin.action(description="Assign selected messages to me", permissions=["change"])
    def assign_to_me(self, request, queryset):
        user = request.user
        self._set(request, queryset, f"Assigned to {user.get_username()}", assigned_to_id=user.pk)
