"""Redirect targets taken from a request never leave the site."""

import pytest

from tests.conftest import csrf_from


@pytest.mark.parametrize("target", [
    "http://evil.example/x", "//evil.example/x", "/\\evil.example", "http://localhost//evil.example/x",
    "https://localhost/\\evil", "javascript:alert(1)",
])
def test_the_language_switch_never_redirects_off_site(client, target):
    page = client.get("/login").get_data(as_text=True)
    response = client.post("/language", data={"csrf_token": csrf_from(page), "lang": "en", "next": target})
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith("/") and not location.startswith("//") and "\\" not in location
    assert "evil" not in location


def test_the_language_switch_returns_to_the_page_it_came_from(client):
    page = client.get("/login").get_data(as_text=True)
    response = client.post("/language", data={"csrf_token": csrf_from(page), "lang": "zh_Hans", "next": "/login?x=1"})
    assert response.headers["Location"] == "/login?x=1"
