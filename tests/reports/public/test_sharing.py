"""Link previews: Open Graph and Twitter tags on every public page, share cards, the site image."""

from __future__ import annotations

import html
import io
import re

import pytest
from django.urls import reverse
from PIL import Image

from reports import workflow
from reports.models import Verdict
from reports.public import sharing
from reports.public.models import ShareImage
from tests.conftest import make_report, make_topic, publish_now

pytestmark = pytest.mark.django_db

SITE_IMAGE = "http://testserver/share/site-image"


def meta(content: str, key: str) -> list[str]:
    """The content of each <meta property|name="key"> of the page, unescaped."""
    pattern = rf'<meta (?:property|name)="{re.escape(key)}" content="([^"]*)">'
    return [html.unescape(value) for value in re.findall(pattern, content)]


def canonical(content: str) -> list[str]:
    return re.findall(r'<link rel="canonical" href="([^"]*)">', content)


def png(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def image_bytes(kind: str, size=(1200, 630), colour="#336699") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format=kind)
    return out.getvalue()


@pytest.fixture
def live():
    """A live, corrected report on a topic, citing a source; and a withdrawn one."""
    topic = make_topic(name="Health", slug="health")
    report = make_report(
        claim="Vitamin C cures colds.",
        slug="vitamin-c",
        summary="It does not cure them [1] [2].",
        verdict=Verdict.objects.get(slug="false"),
    )
    report.topics.set([topic])
    publish_now(report)
    report.summary = "It does not cure them; it may shorten them a little [1] [2]."
    report.save()
    publish_now(report, note="Added what it does.", kind="correction")
    gone = make_report(slug="gone")
    publish_now(gone)
    workflow.withdraw(gone, by=None, reason="It relied on a hoax.")
    return report


# Every public page has the tags


PAGES = [
    ("/", "Latest fact-checks", "website"),
    ("/reports/", "Fact-checks", "website"),
    ("/reports/?q=vitamin", "Fact-checks", "website"),
    ("/topics/health/", "Fact-checks on Health", "website"),
    ("/verdicts/false/", "Claims rated “False”", "website"),
    ("/reports/vitamin-c/", "Vitamin C cures colds.", "article"),
    ("/reports/vitamin-c/history/", "Version history: Vitamin C cures colds.", "website"),
    ("/rating-scale/", "Rating scale", "website"),
    ("/about/", "About Factually", "website"),
    ("/methodology/", "How we check", "website"),
    ("/corrections/", "Corrections policy", "website"),
    ("/contact/", "Contact", "website"),
    ("/suggest/", "Suggest a claim to check", "website"),
]


@pytest.mark.parametrize(("url", "title", "kind"), PAGES)
def test_every_public_page_has_open_graph_and_twitter_tags(client, live, url, title, kind):
    response = client.get(url)

    content = response.content.decode()
    assert response.status_code == 200
    assert meta(content, "og:title") == [title]
    assert meta(content, "og:type") == [kind]
    assert meta(content, "og:site_name") == ["Factually"]
    [description] = meta(content, "og:description")
    assert description.strip()
    assert len(description) <= sharing.DESCRIPTION_LENGTH
    # og:url is the page's absolute canonical address.
    assert meta(content, "og:url") == canonical(content)
    assert meta(content, "og:url")[0].startswith("http://testserver/")
    [image] = meta(content, "og:image")
    assert image.startswith("http://testserver/")
    assert meta(content, "og:image:alt")
    assert meta(content, "twitter:card") == ["summary_large_image"]
    assert meta(content, "twitter:title") == [title[:69] + "…" if len(title) > 70 else title]
    assert meta(content, "twitter:description") == [description]
    assert meta(content, "twitter:image") == [image]


def test_a_source_page_has_the_tags(client, live):
    source = live.references.get(number=1).source

    content = client.get(f"/sources/{source.pk}/").content.decode()

    assert meta(content, "og:title") == [source.title]
    assert meta(content, "og:url") == [f"http://testserver/sources/{source.pk}/"]
    assert meta(content, "og:image") == [SITE_IMAGE]


def test_a_withdrawn_report_page_has_the_tags(client, live):
    response = client.get("/reports/gone/")

    assert response.status_code == 410
    assert meta(response.content.decode(), "og:url") == ["http://testserver/reports/gone/"]


def test_the_report_page_shows_its_share_card_and_other_pages_the_site_image(client, live):
    report_page = client.get("/reports/vitamin-c/").content.decode()
    home = client.get("/").content.decode()

    card = "http://testserver/reports/vitamin-c/versions/2/card.png"
    assert meta(report_page, "og:image") == [card]
    assert meta(report_page, "og:image:width") == ["1200"]
    assert meta(report_page, "og:image:height") == ["630"]
    assert meta(report_page, "og:image:alt") == ["False: Vitamin C cures colds."]
    assert meta(report_page, "og:description") == [
        "Verdict: False. It does not cure them; it may shorten them a little."
    ]
    assert meta(home, "og:image") == [SITE_IMAGE]


def test_an_earlier_version_shares_its_own_card_under_the_live_address(client, live):
    content = client.get("/reports/vitamin-c/versions/1/").content.decode()

    assert meta(content, "og:url") == ["http://testserver/reports/vitamin-c/"]
    assert meta(content, "og:image") == ["http://testserver/reports/vitamin-c/versions/1/card.png"]
    assert "application/ld+json" not in content


def test_page_text_in_the_tags_is_escaped(client):
    claim = 'He said "5 < 6" & <b>left</b>'
    report = make_report(claim=claim)
    publish_now(report)

    content = client.get(f"/reports/{report.slug}/").content.decode()

    assert '"5 < 6"' not in content
    assert "<b>left</b>" not in content
    assert meta(content, "og:title") == [claim]


def test_a_list_of_search_results_shares_its_canonical_address(client, live):
    content = client.get("/reports/?q=vitamin&utm_source=x").content.decode()

    assert meta(content, "og:url") == canonical(content)
    assert "utm_source" not in meta(content, "og:url")[0]


# The share card


def test_the_share_card_is_a_1200_by_630_png_cached_long(client, live):
    response = client.get("/reports/vitamin-c/versions/2/card.png")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert png(response.content).size == (1200, 630)
    assert png(response.content).format == "PNG"
    cache_control = response["Cache-Control"]
    assert "public" in cache_control
    assert "max-age=31536000" in cache_control
    assert "immutable" in cache_control


def test_a_correction_gets_a_new_card_address(client, live):
    before = meta(client.get("/reports/vitamin-c/").content.decode(), "og:image")
    live.claim = "Vitamin C cures every cold."
    live.save()
    publish_now(live, note="The claim was quoted wrongly.", kind="correction")

    after = meta(client.get("/reports/vitamin-c/").content.decode(), "og:image")

    assert before == ["http://testserver/reports/vitamin-c/versions/2/card.png"]
    assert after == ["http://testserver/reports/vitamin-c/versions/3/card.png"]
    new = client.get("/reports/vitamin-c/versions/3/card.png").content
    old = client.get("/reports/vitamin-c/versions/2/card.png").content
    assert png(new).size == png(old).size == (1200, 630)
    assert new != old  # drawn from each version's own claim


def test_a_draft_has_no_card(client):
    draft = make_report(slug="only-a-draft")

    assert client.get(f"/reports/{draft.slug}/versions/1/card.png").status_code == 404


def test_an_unpublished_or_withdrawn_report_has_no_card(client, live):
    gone = client.get("/reports/gone/versions/1/card.png")
    workflow.unpublish(live, by=None, comment="Being rechecked.")
    unpublished = client.get("/reports/vitamin-c/versions/2/card.png")

    assert gone.status_code == 404
    assert unpublished.status_code == 404


def test_a_version_that_does_not_exist_has_no_card(client, live):
    assert client.get("/reports/vitamin-c/versions/3/card.png").status_code == 404
    assert client.get("/reports/no-such-report/versions/1/card.png").status_code == 404


def test_a_card_is_drawn_once_then_served_from_the_cache(
    client, live, page_cache, monkeypatch, django_assert_max_num_queries
):
    drawn = []
    draw = sharing.draw_card
    monkeypatch.setattr(sharing, "draw_card", lambda **lines: drawn.append(lines) or draw(**lines))

    first = client.get("/reports/vitamin-c/versions/2/card.png").content
    with django_assert_max_num_queries(1):  # whether the version is public: one query
        second = client.get("/reports/vitamin-c/versions/2/card.png").content

    assert first == second
    assert len(drawn) == 1
    assert drawn[0]["label"] == "False"
    assert drawn[0]["text"] == "“Vitamin C cures colds.”"


def test_a_card_shows_the_published_claim_never_unpublished_edits(
    client, live, page_cache, monkeypatch
):
    drawn = []
    draw = sharing.draw_card
    monkeypatch.setattr(sharing, "draw_card", lambda **lines: drawn.append(lines) or draw(**lines))
    live.claim = "Secret unpublished wording."
    live.verdict = Verdict.objects.get(slug="true")
    live.save()

    response = client.get("/reports/vitamin-c/versions/2/card.png")

    assert response.status_code == 200
    assert [(lines["text"], lines["label"]) for lines in drawn] == [
        ("“Vitamin C cures colds.”", "False")
    ]


def test_a_long_claim_is_wrapped_and_cut_to_fit_the_card():
    font = sharing._font(60)
    text = "A claim that goes on " + "and on " * 80 + "until the end."

    lines = sharing.wrap(text, font, 1056)
    png_data = sharing.draw_card(
        kicker="Fact-check",
        label="Mostly false",
        colour="#cf222e",
        label_ink="#ffffff",
        text=text,
        footer="Factually",
    )

    assert len(lines) > 5
    assert all(font.getlength(line) <= 1056 for line in lines)
    assert png(png_data).size == (1200, 630)


def test_a_word_longer_than_a_line_is_broken_inside():
    font = sharing._font(60)

    lines = sharing.wrap("x" * 200, font, 1056)

    assert len(lines) > 1
    assert "".join(lines) == "x" * 200
    assert all(font.getlength(line) <= 1056 for line in lines)


def test_the_cut_line_ends_with_an_ellipsis():
    font = sharing._font(60)

    lines = sharing._cut(sharing.wrap("word " * 200, font, 1056), font, 1056, 3)

    assert len(lines) == 3
    assert lines[-1].endswith("…")
    assert font.getlength(lines[-1]) <= 1056


# The site image and its upload in the admin


def test_without_an_upload_the_site_image_is_the_drawn_site_card(client):
    response = client.get("/share/site-image")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert png(response.content).size == (1200, 630)
    assert "max-age=86400" in response["Cache-Control"]


def upload(editor_client, data: bytes, name="share.png"):
    file = io.BytesIO(data)
    file.name = name
    return editor_client.post(reverse("admin:reports_shareimage_add"), {"upload": file})


@pytest.mark.parametrize(("kind", "content_type"), [("PNG", "image/png"), ("JPEG", "image/jpeg")])
def test_an_uploaded_png_or_jpeg_becomes_the_site_image(editor_client, client, kind, content_type):
    data = image_bytes(kind)

    response = upload(editor_client, data, name="default.img")

    assert response.status_code == 302
    stored = ShareImage.objects.get()
    assert (stored.width, stored.height, stored.content_type) == (1200, 630, content_type)
    client.logout()
    served = client.get("/share/site-image")
    assert served["Content-Type"] == content_type
    assert served.content == data


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"GIF89a" + b"\0" * 100, "This is not an image: upload a PNG or JPEG file."),
        (b"not an image at all", "This is not an image: upload a PNG or JPEG file."),
        (image_bytes("GIF"), "This is a GIF image: upload a PNG or JPEG file."),
        (image_bytes("PNG", size=(120, 120)), "The image is 120×120 pixels"),
        (image_bytes("PNG", size=(5000, 300)), "The image is 5000×300 pixels"),
        (image_bytes("PNG")[:-200], "The image is damaged or incomplete"),
    ],
)
def test_an_upload_that_is_not_a_sane_png_or_jpeg_is_refused(editor_client, data, message):
    response = upload(editor_client, data)

    assert response.status_code == 200
    assert html.escape(message) in response.content.decode()
    assert not ShareImage.objects.exists()


def test_an_upload_over_three_megabytes_is_refused(editor_client):
    data = image_bytes("PNG") + b"\0" * sharing.IMAGE_MAX_BYTES

    response = upload(editor_client, data)

    assert response.status_code == 200
    assert "the limit is 3,145,728 (3 MB)" in response.content.decode()
    assert not ShareImage.objects.exists()


def test_there_is_one_default_image_a_new_upload_replaces_the_old(editor_client):
    upload(editor_client, image_bytes("PNG"))
    first = ShareImage.objects.get()

    added = upload(editor_client, image_bytes("JPEG", size=(800, 800)), name="new.jpg")
    file = io.BytesIO(image_bytes("PNG", size=(640, 640)))
    file.name = "again.png"
    stored = ShareImage.objects.get()
    changed = editor_client.post(
        reverse("admin:reports_shareimage_change", args=[stored.pk]), {"upload": file}
    )

    assert added.status_code == changed.status_code == 302
    assert stored.pk != first.pk
    stored = ShareImage.objects.get()
    assert (stored.width, stored.height, stored.content_type) == (640, 640, "image/png")
