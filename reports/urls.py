from django.urls import path

from reports import views

app_name = "reports"

urlpatterns = [
    path("", views.home, name="home"),
    path("reports/<slug:slug>/", views.report_detail, name="detail"),
    path("reports/<slug:slug>/history/", views.report_history, name="history"),
    path("reports/<slug:slug>/versions/<int:number>/", views.report_version, name="version"),
    path("verdicts.css", views.verdict_styles, name="verdict_styles"),
]
