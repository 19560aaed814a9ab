"""Root URLs: the public site, the admin and the staff-editable pages."""

from django.contrib import admin
from django.contrib.flatpages import views as flatpage_views
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("methodology/", flatpage_views.flatpage, {"url": "/methodology/"}, name="methodology"),
    path("", include("reports.urls")),
]
