from django.urls import path

from reports.public import feedback_views, feeds, sharing_views, views

app_name = "reports"

urlpatterns = [
    path("", views.home, name="home"),
    path("reports/", views.report_list, name="list"),
    path("topics/<slug:slug>/", views.topic_reports, name="topic"),
    path("verdicts/<slug:slug>/", views.verdict_reports, name="verdict"),
    path("reports/<slug:slug>/", views.report_detail, name="detail"),
    # The live version as a factually.report/1 document (reports/formats/jsonformat.py).
    path("reports/<slug:slug>.json", views.report_json, name="detail_json"),
    path("reports/<slug:slug>/history/", views.report_history, name="history"),
    path("reports/<slug:slug>/versions/<int:number>/", views.report_version, name="version"),
    # Link-preview images (reports/public/sharing.py): a version's card, the site image.
    path(
        "reports/<slug:slug>/versions/<int:number>/card.png",
        sharing_views.share_card,
        name="share_card",
    ),
    path("share/site-image", sharing_views.share_site_image, name="share_site_image"),
    path("verdicts.css", views.verdict_styles, name="verdict_styles"),
    path("rating-scale/", views.rating_scale, name="rating_scale"),
    # Feeds (reports/public/feeds.py): RSS and Atom, latest, per topic or verdict; ClaimReview JSON.
    path("feeds/latest/rss/", feeds.LatestReportsFeed(), name="feed_rss"),
    path("feeds/latest/atom/", feeds.LatestReportsAtomFeed(), name="feed_atom"),
    path("feeds/claimreview.json", feeds.claimreview_feed, name="claimreview_feed"),
    path("topics/<slug:slug>/feed/", feeds.TopicFeed(), name="topic_feed"),
    path("topics/<slug:slug>/feed/atom/", feeds.TopicAtomFeed(), name="topic_feed_atom"),
    path("verdicts/<slug:slug>/feed/", feeds.VerdictFeed(), name="verdict_feed"),
    path("verdicts/<slug:slug>/feed/atom/", feeds.VerdictAtomFeed(), name="verdict_feed_atom"),
    path("reports/<slug:slug>/report-error/", feedback_views.report_error, name="report_error"),
    path(
        "reports/<slug:slug>/report-error/thanks/",
        feedback_views.report_error_thanks,
        name="report_error_thanks",
    ),
    path("suggest/", feedback_views.suggest_claim, name="suggest_claim"),
    path("suggest/thanks/", feedback_views.suggest_claim_thanks, name="suggest_claim_thanks"),
]
