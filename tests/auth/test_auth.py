"""Admin authentication: login, logout, server-side sessions, throttling, CSRF, htmx."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from portail.auth.guard import password_params
from portail.core import netaddr, passwords
from portail.core.api_urls import PRODUCTION_URL
from portail.storage import database, sessions, settings, throttle
from tests.admin_helpers import (
    PASSWORD,
    USERNAME,
    AuthActions,
    csrf_from,
    make_app,
)
from tests.admin_helpers import page_text as text


@pytest.fixture
def auth(app, client):
    """AuthActions with one admin, alice, not yet logged in (these tests log in themselves)."""
    actions = AuthActions(app, client)
    actions.create_admin()
    return actions


class Clock:
    """A controllable UTC clock for throttling and session expiry."""

    def __init__(self):
        self.moment = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)

    def __call__(self):
        return self.moment

    def advance(self, **delta):
        self.moment += timedelta(**delta)


@pytest.fixture
def clock(monkeypatch):
    """Freeze the throttle and session clocks; tests move them forward."""
    fake = Clock()
    monkeypatch.setattr(throttle, "now", fake)
    monkeypatch.setattr(sessions, "now", fake)
    return fake


def login_target(location: str) -> str:
    """The `next` page of a redirect to the login page."""
    parts = urlsplit(location)
    assert parts.path == "/admin/connexion"
    return parse_qs(parts.query)["next"][0]


def events(db, event=None):
    rows = list(db.query("SELECT * FROM admin_events ORDER BY id"))
    return [row for row in rows if event is None or row["event"] == event]


# -- login and logout -------------------------------------------------------------------


def test_admin_pages_redirect_anonymous_visitors_to_login(client):
    response = client.get("/admin/parametres")
    assert response.status_code in (302, 303)
    assert login_target(response.headers["Location"]) == "/admin/parametres"


def test_login_page_has_labelled_username_and_password_fields(client):
    page = text(client.get("/admin/connexion"))
    assert 'name="username"' in page and 'for="f-username"' in page
    assert 'type="password" id="f-password" name="password"' in page
    assert 'autocomplete="current-password"' in page
    # Pasting and long passphrases are allowed: no small maxlength, no onpaste blocking.
    assert "onpaste" not in page and 'maxlength="1024"' in page


def test_login_then_dashboard_then_logout(auth, client, db):
    response = auth.login()
    assert response.status_code == 303
    assert response.headers["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    assert events(db, "login_succeeded")[0]["username"] == USERNAME

    response = auth.logout()
    assert response.status_code == 303
    assert response.headers["Location"] == "/admin/connexion"
    assert client.get("/admin/").status_code == 303
    assert events(db, "logout")


def test_wrong_password_is_refused_and_journaled(auth, client, db):
    response = auth.login(password="pas le bon mot de passe")
    assert response.status_code == 401
    assert "Identifiant ou mot de passe incorrect." in text(response)
    assert auth.session_cookie() is None
    failure = events(db, "login_failed")[0]
    assert failure["username"] == USERNAME and failure["ip"] == "127.0.0.1"
    # The typed password is journaled nowhere.
    assert all("pas le bon" not in str(row) for row in events(db))


def test_unknown_account_gets_the_same_answer_as_a_wrong_password(auth):
    unknown = auth.login(username="mallory", password=PASSWORD)
    wrong = auth.login(password="pas le bon mot de passe")
    assert unknown.status_code == wrong.status_code == 401
    assert "Identifiant ou mot de passe incorrect." in text(unknown)


def test_username_is_case_insensitive(auth, client):
    assert auth.login(username="ALICE").status_code == 303
    assert client.get("/admin/").status_code == 200


def test_empty_fields_give_422_with_error_summary(auth, client):
    page = client.get("/admin/connexion")
    response = client.post(
        "/admin/connexion",
        data={"username": "", "password": "", "csrf_token": csrf_from(page.data)},
    )
    body = text(response)
    assert response.status_code == 422
    assert 'class="error-summary"' in body
    assert "Saisissez votre identifiant." in body
    assert 'aria-describedby="f-username-error"' in body


def test_password_is_never_filled_back(auth):
    body = text(auth.login(password="secret mal tapé 123"))
    assert "secret mal tapé 123" not in body


# -- next: local paths only -------------------------------------------------------------


@pytest.mark.parametrize(
    ("next_url", "expected"),
    [
        ("/admin/demandes?page=2", "/admin/demandes?page=2"),
        ("/admin/parametres", "/admin/parametres"),
        ("//evil.example/admin", "/admin/"),
        ("https://evil.example/", "/admin/"),
        ("/\\evil.example", "/admin/"),
        ("javascript:alert(1)", "/admin/"),
        ("admin/", "/admin/"),
        ("/admin/\r\nSet-Cookie: x=1", "/admin/"),
    ],
)
def test_next_is_a_local_path_only(auth, next_url, expected):
    response = auth.login(next_url=next_url)
    assert response.status_code == 303
    assert response.headers["Location"] == expected


def test_login_comes_back_to_the_page_asked_for(auth, client):
    location = client.get("/admin/demandes?page=2").headers["Location"]
    assert login_target(location) == "/admin/demandes?page=2"
    page = text(client.get(location))
    assert 'name="next" value="/admin/demandes?page=2"' in page


# -- server-side sessions ---------------------------------------------------------------


def test_cookie_holds_only_a_random_id_stored_hashed(auth, client, db):
    auth.login()
    value = auth.session_cookie()
    assert value and len(value) >= 40
    assert USERNAME not in value
    stored = [row["id_hash"] for row in db.query("SELECT id_hash FROM admin_sessions")]
    assert len(stored) == 1 and stored[0] != value


def test_cookie_flags_in_local_testing(auth):
    header = auth.login().headers["Set-Cookie"]
    assert "portail_admin=" in header
    assert "HttpOnly" in header and "SameSite=Lax" in header and "Path=/admin" in header
    # Loopback + TESTING: plain HTTP must work, so no Secure flag.
    assert "Secure" not in header


def test_cookie_is_secure_on_a_public_host(auth, client):
    page = client.get("/admin/connexion", base_url="http://portail.example.fr")
    response = client.post(
        "/admin/connexion",
        base_url="http://portail.example.fr",
        data={"username": USERNAME, "password": PASSWORD, "csrf_token": csrf_from(page.data)},
    )
    assert response.status_code == 303
    assert "Secure" in response.headers["Set-Cookie"]


def test_cookie_is_secure_outside_demonstration_even_on_loopback(tmp_path):
    app = make_app(tmp_path, TESTING=False)
    db = database.connect(app.config["DATABASE"])
    actions = AuthActions(app, app.test_client())
    actions.create_admin()
    # Demonstration on loopback: plain HTTP allowed.
    assert "Secure" not in actions.login().headers["Set-Cookie"]
    settings.save(db, {"api_url": PRODUCTION_URL}, actor="test")
    db.conn.close()
    other = AuthActions(app, app.test_client())
    assert "Secure" in other.login().headers["Set-Cookie"]


def test_copied_cookie_stops_working_after_logout(auth, app, client):
    auth.login()
    stolen = auth.session_cookie()
    thief = app.test_client()
    thief.set_cookie("portail_admin", stolen, path="/admin")
    assert thief.get("/admin/").status_code == 200

    auth.logout()
    assert thief.get("/admin/").status_code == 303


def test_copied_cookie_stops_working_after_set_password(auth, app, client, runner):
    auth.login()
    stolen = auth.session_cookie()
    thief = app.test_client()
    thief.set_cookie("portail_admin", stolen, path="/admin")
    assert thief.get("/admin/").status_code == 200

    result = runner.invoke(
        args=["admin", "set-password", USERNAME, "--password-stdin"],
        input="une toute nouvelle phrase de passe\n",
    )
    assert result.exit_code == 0, result.output
    assert "1 session ouverte fermée" in result.output
    assert thief.get("/admin/").status_code == 303
    assert client.get("/admin/").status_code == 303
    assert auth.login(password="une toute nouvelle phrase de passe").status_code == 303


def test_session_ends_after_30_minutes_idle(auth, client, clock):
    auth.login()
    clock.advance(minutes=29)
    assert client.get("/admin/").status_code == 200
    clock.advance(minutes=29)  # 29 minutes since the last request: still alive
    assert client.get("/admin/").status_code == 200
    clock.advance(minutes=31)
    response = client.get("/admin/")
    assert response.status_code == 303
    page = text(client.get(response.headers["Location"]))
    assert "Votre session a expiré" in page


def test_session_has_an_absolute_lifetime(auth, client, clock):
    auth.login()
    for _ in range(12 * 3 + 2):
        clock.advance(minutes=20)
        if client.get("/admin/").status_code != 200:
            break
    else:
        pytest.fail("an active session never expired")
    assert clock.moment - datetime(2026, 3, 2, 10, 0, tzinfo=UTC) <= timedelta(hours=12, minutes=20)


def test_login_page_redirects_an_admin_already_logged_in(auth, client):
    auth.login()
    response = client.get("/admin/connexion?next=/admin/demandes")
    assert response.status_code == 303
    assert response.headers["Location"] == "/admin/demandes"


def test_admin_pages_are_not_cached(auth, client):
    auth.login()
    assert client.get("/admin/").headers["Cache-Control"] == "no-store"
    assert client.get("/admin/connexion").headers["Cache-Control"] == "no-store"


# -- htmx -------------------------------------------------------------------------------


def test_htmx_request_without_session_gets_hx_redirect_not_a_login_page(client):
    response = client.post(
        "/admin/parametres",
        headers={
            "HX-Request": "true",
            "HX-Current-URL": "http://localhost/admin/parametres",
        },
        data={"action": "tester"},
    )
    # CSRF runs first for a POST; a GET fragment shows the redirect behaviour alone.
    assert response.status_code in (400, 401)
    response = client.get(
        "/admin/parametres",
        headers={"HX-Request": "true", "HX-Current-URL": "http://localhost/admin/demandes"},
    )
    assert response.status_code == 401
    assert login_target(response.headers["HX-Redirect"]) == "/admin/demandes"
    assert b"<form" not in response.data


def test_htmx_post_with_expired_session_gets_hx_redirect(auth, client, clock):
    auth.login()
    token = auth.csrf()
    clock.advance(hours=1)
    response = client.post(
        "/admin/parametres",
        headers={
            "HX-Request": "true",
            "HX-Current-URL": "http://localhost/admin/parametres",
            "X-CSRFToken": token,
        },
        data={"action": "tester"},
    )
    assert response.status_code == 401
    assert login_target(response.headers["HX-Redirect"]) == "/admin/parametres"


def test_htmx_hx_current_url_of_another_host_is_ignored(client):
    response = client.get(
        "/admin/",
        headers={"HX-Request": "true", "HX-Current-URL": "https://evil.example/phish"},
    )
    assert login_target(response.headers["HX-Redirect"]) == "/admin/"


# -- CSRF -------------------------------------------------------------------------------


def test_login_without_csrf_token_is_refused(auth, client):
    client.get("/admin/connexion")
    response = client.post("/admin/connexion", data={"username": USERNAME, "password": PASSWORD})
    assert response.status_code == 400
    assert "Formulaire expiré" in text(response)
    assert auth.session_cookie() is None


def test_logout_without_csrf_token_is_refused(auth, client):
    auth.login()
    response = client.post("/admin/deconnexion")
    assert response.status_code == 400
    assert client.get("/admin/").status_code == 200


def test_settings_post_without_csrf_token_is_refused(auth, client, db):
    auth.login()
    response = client.post(
        "/admin/parametres",
        data={"enabled": "", "recipient_siret": "21999001700010", "api_url": "x"},
    )
    assert response.status_code == 400
    htmx = client.post(
        "/admin/parametres", headers={"HX-Request": "true"}, data={"action": "tester"}
    )
    assert htmx.status_code == 400
    assert db["settings_changes"].count == 0


def test_htmx_post_with_csrf_header_is_accepted(auth, client):
    auth.login()
    response = client.post(
        "/admin/parametres",
        headers={"HX-Request": "true", "X-CSRFToken": auth.csrf()},
        data={"action": "tester"},
    )
    assert response.status_code == 200


def test_admin_pages_carry_the_csrf_token_for_htmx(auth, client):
    auth.login()
    page = text(client.get("/admin/parametres"))
    assert 'hx-headers=\'{"X-CSRFToken": "' in page


def test_csrf_token_changes_at_login(auth, client):
    before = csrf_from(client.get("/admin/connexion").data)
    auth.login()
    assert auth.csrf() != before


# -- throttling -------------------------------------------------------------------------


def test_throttle_delays_grow_and_are_never_permanent():
    free = throttle.ACCOUNT_FREE_FAILURES
    delays = [throttle.delay_after(n, free) for n in range(1, free + 12)]
    assert delays[:free] == [timedelta(0)] * free
    growing = delays[free:]
    assert growing[0] == timedelta(seconds=5)
    assert all(b >= a for a, b in zip(growing, growing[1:], strict=False))
    assert growing[1] == 2 * growing[0]
    assert max(delays) <= throttle.MAX_DELAY
    assert throttle.delay_after(10_000, free) == throttle.MAX_DELAY


def test_account_throttling_refuses_early_attempts_and_lets_the_admin_back(auth, clock, db):
    for _ in range(throttle.ACCOUNT_FREE_FAILURES):
        assert auth.login(password="mauvais mot de passe").status_code == 401
    response = auth.login(password="mauvais mot de passe")
    assert response.status_code == 401
    assert "prochaine tentative sera possible à partir de" in text(response)
    assert "dans 5 secondes" in text(response)

    # Even the right password is refused before the time, without checking it.
    refused = auth.login()
    body = text(refused)
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "5"
    assert "Trop de tentatives" in body and "11:00:05" in body  # Paris time (UTC+1 in March)
    assert events(db, "login_throttled")

    clock.advance(seconds=5)
    assert auth.login(password="mauvais mot de passe").status_code == 401
    again = auth.login()
    assert again.status_code == 429
    assert again.headers["Retry-After"] == "10"  # the delay doubled

    clock.advance(seconds=10)
    assert auth.login().status_code == 303  # the right password after the wait


def test_throttling_is_per_account_and_per_ip(auth, clock):
    auth.create_admin("bob")
    for _ in range(throttle.ACCOUNT_FREE_FAILURES + 1):
        auth.login(password="mauvais mot de passe", ip="192.0.2.1")
    # Alice's account waits from the address that failed (another address is let in:
    # tests/auth/test_login_lockout.py); Bob's account does not.
    assert auth.login(ip="192.0.2.1").status_code == 429
    assert auth.login(username="bob", ip="192.0.2.1").status_code == 303


def test_ip_throttling_covers_every_account_from_that_address(auth, app, clock):
    for number in range(throttle.IP_FREE_FAILURES + 1):
        response = auth.login(username=f"inconnu{number}", ip="203.0.113.9")
        assert response.status_code == 401
    client2 = app.test_client()
    other = AuthActions(app, client2)
    assert other.login(ip="203.0.113.9").status_code == 429
    assert other.login(ip="203.0.113.10").status_code == 303


def test_ipv6_clients_are_grouped_by_64_block():
    assert netaddr.ip_key("2001:db8:1:2::1") == netaddr.ip_key("2001:db8:1:2:ffff::9")
    assert netaddr.ip_key("2001:db8:1:3::1") != netaddr.ip_key("2001:db8:1:2::1")
    assert netaddr.ip_key("::ffff:192.0.2.1") == "ip:192.0.2.1"


def test_a_successful_login_resets_the_counters(auth, clock, db):
    for _ in range(throttle.ACCOUNT_FREE_FAILURES):
        auth.login(password="mauvais mot de passe")
    assert auth.login().status_code == 303
    assert db["login_throttle"].count == 0


# -- passwords --------------------------------------------------------------------------


def test_password_hash_defaults_to_scrypt_n_2_17(tmp_path):
    app = make_app(tmp_path, PASSWORD_SCRYPT_N=None)
    params = password_params(app)
    assert (params.n, params.r, params.p) == (2**17, 8, 1)
    stored = passwords.hash_password("une phrase de passe correcte", params)
    assert stored.startswith("scrypt$ln=17,r=8,p=1$")
    assert passwords.verify_password("une phrase de passe correcte", stored)


def test_hash_stores_salt_and_parameters_and_is_upgraded_at_login(auth, app, db):
    params = passwords.params_for(2**10)
    first = passwords.hash_password(PASSWORD, params)
    second = passwords.hash_password(PASSWORD, params)
    assert first != second  # random salt
    assert passwords.verify_password(PASSWORD, first)
    assert not passwords.verify_password(PASSWORD + "x", first)

    app.config["PASSWORD_SCRYPT_N"] = 2**11
    assert auth.login().status_code == 303
    stored = next(iter(db.query("SELECT password_hash FROM admins")))["password_hash"]
    assert stored.startswith("scrypt$ln=11,")


@pytest.mark.parametrize(
    "password",
    ["court", "onze carac.", "alice", ""],
)
def test_short_passwords_are_refused(password):
    with pytest.raises(passwords.WeakPassword):
        passwords.check_policy(password, "alice")


def test_long_passphrases_with_accents_and_spaces_are_accepted():
    phrase = "Le cœur a ses raisons que la raison ne connaît point " * 5
    passwords.check_policy(phrase)
    params = passwords.params_for(2**10)
    stored = passwords.hash_password(phrase, params)
    # The same phrase typed in decomposed form (another keyboard or system) still matches.

    assert passwords.verify_password(unicodedata.normalize("NFD", phrase), stored)
