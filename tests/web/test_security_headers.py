"""Hardening of every answer: browser features refused, HTTPS remembered, Host checked."""

from __future__ import annotations

from tests.admin_helpers import make_app


def test_every_page_refuses_browser_features_it_never_uses(client):
    policy = client.get("/demande").headers["Permissions-Policy"]
    for feature in ("camera=()", "microphone=()", "geolocation=()", "payment=()"):
        assert feature in policy


def test_hsts_only_over_https(client):
    assert "Strict-Transport-Security" not in client.get("/demande").headers
    secure = client.get("/demande", base_url="https://portail.example.fr")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=63072000")


def test_a_forged_host_is_refused_and_never_reflected_in_a_redirect(tmp_path):
    app = make_app(tmp_path, TRUSTED_HOSTS=["portail.example.fr"])
    client = app.test_client()
    forged = client.get("/admin", base_url="http://evil.example")
    assert forged.status_code == 400
    assert "evil.example" not in forged.headers.get("Location", "")
    assert "Requête invalide" in forged.get_data(as_text=True)
    trusted = client.get("/admin", base_url="http://portail.example.fr")
    assert trusted.status_code in (301, 302, 308)
    assert "evil.example" not in trusted.headers["Location"]


def test_without_trusted_hosts_the_redirect_follows_the_host(tmp_path):
    # The default (None) accepts any Host: production sets TRUSTED_HOSTS (README).
    client = make_app(tmp_path).test_client()
    assert client.get("/admin", base_url="http://other.example").status_code in (301, 302, 308)
