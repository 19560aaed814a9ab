"""Root URLs: the public site, the admin and the staff-editable pages."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.flatpages import views as flatpage_views
from django.urls import include, path

from factually import favicon, health
from reports.public import sitemaps

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
    # Flat pages every footer links to (reports/migrations/0010_site_pages.py).
    path("about/", flatpage_views.flatpage, {"url": "/about/"}, name="about"),
    path("corrections/", flatpage_views.flatpage, {"url": "/corrections/"}, name="corrections"),
    path("contact/", flatpage_views.flatpage, {"url": "/contact/"}, name="contact"),
    path("sitemap.xml", sitemaps.sitemap, name="sitemap"),
    path("robots.txt", sitemaps.robots_txt, name="robots_txt"),
    path("favicon.ico", favicon.favicon, name="favicon"),
    # What is down, for load balancers and monitoring: no login, never cached.
    path("healthz", health.healthz, name="healthz"),
    path("sources/", include("sources.urls")),
    path("", include("reports.public.urls")),
]
