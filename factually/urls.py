"""Root URLs: the public site, the admin and the staff-editable pages."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.flatpages import views as flatpage_views
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    # The one-time set-password links `createuser --link` prints (admin templates).
    path(
        "accounts/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "accounts/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("methodology/", flatpage_views.flatpage, {"url": "/methodology/"}, name="methodology"),
    path("sources/", include("sources.urls")),
    path("", include("reports.urls")),
]
