"""Published versions in the admin: listed and shown, never changed (they are immutable)."""

from django.contrib import admin

from reports.models import PublishedVersion


@admin.register(PublishedVersion)
class PublishedVersionAdmin(admin.ModelAdmin):
    """Published versions are immutable: the admin only lists and shows them."""

    list_display = ["claim", "number", "is_live", "verdict", "published_at", "published_by"]
    list_filter = ["is_live", "verdict"]
    list_select_related = ["verdict", "published_by"]
    search_fields = ["claim", "slug"]
    date_hierarchy = "published_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
