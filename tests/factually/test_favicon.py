"""`/favicon.ico` answers: browsers and crawlers ask for it on every site."""

import pytest
from django.contrib.staticfiles import finders


@pytest.mark.django_db
def test_favicon_ico_redirects_for_good_to_the_site_icon(client):
    response = client.get("/favicon.ico")

    assert response.status_code == 301
    assert response["Location"] == "/static/img/favicon.svg"
    assert "public" in response["Cache-Control"]
    assert "max-age=86400" in response["Cache-Control"]
    assert finders.find("img/favicon.svg")
    assert client.head("/favicon.ico").status_code == 301
