"""The settings page: validation, persistence, the token kept when empty, host changes,
the switch, the expiry banner and the connection test against a loopback double."""

from __future__ import annotations

import re
import socket
import threading
import time
from contextlib import contextmanager

import pytest

from portail.admin import connection_test
from portail.apientreprise import budget, errors, sandbox
from portail.core import settings_rules
from portail.core.api_urls import PRODUCTION_URL, SANDBOX_URL, STAGING_URL
from portail.core.tokens import mint_token
from portail.storage import database
from tests.admin_helpers import (
    csrf_from,
    logged_in,
    make_app,
)
from tests.admin_helpers import page_text as text
from tests.admin_helpers import save_settings as save_directly
from tests.admin_helpers import saved_settings as saved
from tests.api_helpers import journal_row

VALID_SIRET = "21999001700010"  # the sandbox's demonstration recipient
OTHER_SIRET = "73282932000074"
DAY = 86400


def form_data(auth, **overrides):
    """The settings form as the page would post it."""
    data = {
        "csrf_token": auth.csrf(),
        "enabled": "y",
        "recipient_siret": VALID_SIRET,
        "token": "",
        "context": "Instruction des subventions",
        "api_url": SANDBOX_URL,
        "action": "enregistrer",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


# -- the page ---------------------------------------------------------------------------


def test_settings_page_shows_the_switch_and_the_four_settings(auth, client):
    page = text(client.get("/admin/parametres"))
    assert "Assistance à la saisie des tiers avec SIRET\u202f: API Entreprise" in page
    for name in ("enabled", "recipient_siret", "token", "context", "api_url"):
        assert f'name="{name}"' in page
    assert 'for="f-enabled"' in page and 'role="switch"' in page
    assert "SIRET de votre organisation" in page and "Contexte d'appel" in page
    assert "URL de l'API Entreprise" in page and "Jeton d'accès" in page
    for url in (PRODUCTION_URL, STAGING_URL, SANDBOX_URL):
        assert f'value="{url}"' in page
    assert 'href="/admin/guide-jeton"' in page


def test_token_field_is_a_password_never_filled_back(auth, app, client):
    token = saved(app).token
    page = text(client.get("/admin/parametres"))
    field = re.search(r'<input type="password" id="f-token"[^>]*>', page).group(0)
    assert 'name="token"' in field and 'value=""' in field and 'autocomplete="off"' in field
    assert token not in page
    # What is shown instead: the last 4 characters, the expiry, the scopes in plain words.
    assert f"…{token[-4:]}" in page
    assert "expire le" in page and "jours" in page
    assert "Pré-remplissage public des tiers par SIRET" in page
    assert "Données protégées pour les agents instructeurs" in page
    assert "Données des associations" in page
    assert "Attestation fiscale" in page and "Attestation de vigilance" in page


def test_token_hint_and_errors_are_tied_to_the_field(auth, client):
    response = client.post("/admin/parametres", data=form_data(auth, token="pas un jeton"))
    body = text(response)
    field = re.search(r'<input type="password" id="f-token"[^>]*>', body).group(0)
    assert 'aria-describedby="f-token-hint f-token-state f-token-error"' in field
    assert 'aria-invalid="true"' in field
    assert 'id="f-token-error"' in body


# -- saving -----------------------------------------------------------------------------


def test_valid_settings_are_saved_and_journaled(auth, app, client, db):
    token = mint_token(["open_data"], expires_in=400 * DAY)
    response = client.post(
        "/admin/parametres",
        data=form_data(auth, recipient_siret="732 829 320 00074", token=token, context=""),
    )
    assert response.status_code == 303
    current = saved(app)
    assert current.recipient_siret == OTHER_SIRET
    assert current.token == token
    assert current.context == settings_rules.DEFAULT_CONTEXT
    rows = list(db.query("SELECT * FROM settings_changes ORDER BY id"))
    # The context was already the default: only what changed is journaled.
    assert {row["key"] for row in rows} == {"recipient_siret", "token"}
    assert all(row["actor"] == "alice" and row["at"] for row in rows)
    token_row = next(row for row in rows if row["key"] == "token")
    assert token not in str(rows) and f"…{token[-4:]}" in token_row["summary"]
    page = text(client.get("/admin/parametres"))
    assert "Paramètres enregistrés" in page and "Historique des modifications" in page


def test_empty_token_keeps_the_saved_token(auth, app, client):
    before = saved(app).token
    response = client.post("/admin/parametres", data=form_data(auth, token=""))
    assert response.status_code == 303
    assert saved(app).token == before


def test_pasted_token_with_line_breaks_and_bearer_prefix_is_cleaned(auth, app, client):
    token = mint_token(["open_data"])
    pasted = "Bearer " + token[:20] + "\n" + token[20:] + "  "
    assert client.post("/admin/parametres", data=form_data(auth, token=pasted)).status_code == 303
    assert saved(app).token == token


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"recipient_siret": "123"}, "recipient_siret", "14 chiffres"),
        ({"recipient_siret": "21999001700011"}, "recipient_siret", "clé de contrôle"),
        ({"token": "abcdef"}, "token", "n'est pas un jeton API Entreprise"),
        ({"context": "x" * 201}, "context", "au plus 200 caractères"),
        ({"api_url": "https://evil.example"}, "api_url", "n'est pas autorisée"),
        ({"api_url": "ftp://entreprise.api.gouv.fr"}, "api_url", "URL valide"),
        ({"api_url": ""}, "api_url", "Choisissez l'adresse"),
    ],
)
def test_invalid_values_give_422_keep_typed_values_and_save_nothing(
    auth, app, client, db, overrides, field, message
):
    before = saved(app)
    data = form_data(auth, context="Mon contexte saisi", **{"enabled": None})
    data.update(overrides)
    response = client.post("/admin/parametres", data=data)
    body = text(response)
    assert response.status_code == 422
    assert 'class="error-summary"' in body and f'href="#f-{field}' in body
    assert message in body
    if "context" not in overrides:
        assert 'value="Mon contexte saisi"' in body
    assert saved(app) == before
    assert db["settings_changes"].count == 0


def test_expired_token_is_refused_when_saving(auth, app, client):
    expired = mint_token(["open_data"], exp=int(time.time()) - DAY)
    response = client.post("/admin/parametres", data=form_data(auth, token=expired))
    assert response.status_code == 422
    assert "Ce jeton a expiré le" in text(response)
    assert saved(app).token != expired


def test_typed_token_is_not_kept_when_another_field_is_wrong(auth, client):
    token = mint_token(["open_data"])
    response = client.post(
        "/admin/parametres", data=form_data(auth, token=token, recipient_siret="123")
    )
    body = text(response)
    assert response.status_code == 422
    assert token not in body
    assert "Le jeton saisi n'a pas été enregistré\u202f: saisissez-le à nouveau." in body


def test_changing_the_host_requires_the_token_again(auth, app, client):
    before = saved(app)
    response = client.post(
        "/admin/parametres",
        data=form_data(auth, api_url=PRODUCTION_URL, recipient_siret=OTHER_SIRET),
    )
    body = text(response)
    assert response.status_code == 422
    assert "saisissez à nouveau le jeton d'accès" in body
    # Nothing else lost: the new URL and the typed SIRET are still selected/filled.
    assert re.search(rf'value="{re.escape(PRODUCTION_URL)}"\s+checked', body)
    assert f'value="{OTHER_SIRET}"' in body
    assert saved(app) == before

    token = mint_token(["open_data"])
    response = client.post(
        "/admin/parametres", data=form_data(auth, api_url=PRODUCTION_URL, token=token)
    )
    assert response.status_code == 303
    assert saved(app).api_url == PRODUCTION_URL and saved(app).token == token


def test_same_host_keeps_the_token(auth, app, client):
    before = saved(app)
    response = client.post("/admin/parametres", data=form_data(auth, api_url=SANDBOX_URL + "/"))
    assert response.status_code == 303
    assert saved(app).token == before.token


def test_extra_urls_accepted_only_when_configured_and_https_unless_loopback(tmp_path):
    app = make_app(
        tmp_path,
        EXTRA_API_BASE_URLS=[
            "http://127.0.0.1:8001",
            "https://proxy.collectivite.example/api-entreprise",
            "http://proxy.collectivite.example",
        ],
    )
    auth = logged_in(app)
    client = auth.client
    token = mint_token(["open_data"])
    for url in ("http://127.0.0.1:8001", "https://proxy.collectivite.example/api-entreprise"):
        response = client.post("/admin/parametres", data=form_data(auth, api_url=url, token=token))
        assert response.status_code == 303, url
        assert saved(app).api_url == url
    response = client.post(
        "/admin/parametres",
        data=form_data(auth, api_url="http://proxy.collectivite.example", token=token),
    )
    assert response.status_code == 422
    assert "HTTPS est obligatoire" in text(response)
    response = client.post(
        "/admin/parametres",
        data=form_data(auth, api_url="http://127.0.0.1:9999", token=token),
    )
    assert response.status_code == 422


@pytest.mark.parametrize(
    "url",
    [
        "http://entreprise.api.gouv.fr",
        "https://entreprise.api.gouv.fr.evil.example",
        "https://user:pass@entreprise.api.gouv.fr",
        "https://entreprise.api.gouv.fr/?x=1",
        "http://localhost:8001",
        "javascript:alert(1)",
    ],
)
def test_unlisted_urls_are_refused(url):
    with pytest.raises(settings_rules.SettingError):
        settings_rules.validate_api_url(url, [])


def test_loopback_recognition():
    assert settings_rules.is_loopback_hostname("127.0.0.1")
    assert settings_rules.is_loopback_hostname("127.8.9.10")
    assert settings_rules.is_loopback_hostname("::1")
    assert settings_rules.is_loopback_hostname("localhost")
    assert not settings_rules.is_loopback_hostname("128.0.0.1")
    assert not settings_rules.is_loopback_hostname("localhost.evil.example")


# -- clearing the token -----------------------------------------------------------------

CLEAR_PATH = "/admin/parametres/effacer-jeton"
HX_TIERS = {"HX-Request": "true", "HX-Target": "tiers-block", "HX-Trigger": "f-siret"}
NOT_AVAILABLE = (
    "L'assistance à la saisie par SIRET n'est pas disponible\u202f: complétez les champs vous-même."
)
SANDBOX_HEAD_OFFICE = sandbox.PERSONAS[0].siret
SANDBOX_SECONDARY = sandbox.PERSONAS[1].siret


def test_settings_page_offers_to_clear_a_saved_token(auth, app, client):
    page = text(client.get("/admin/parametres"))
    assert f'<a href="{CLEAR_PATH}" class="button secondary">Effacer le jeton…</a>' in page
    save_directly(app, token="")
    assert CLEAR_PATH not in text(client.get("/admin/parametres"))


def test_clearing_asks_for_confirmation_first(auth, app, client):
    token = saved(app).token
    response = client.get(CLEAR_PATH)
    page = text(response)
    assert response.status_code == 200
    assert "Effacer le jeton d'accès\u202f?" in page
    assert "ne verront plus d'informations pré-remplies" in page
    assert "jamais la valeur du jeton" in page
    form = re.search(rf'<form method="post" action="{CLEAR_PATH}".*?</form>', page, re.S).group(0)
    assert 'name="csrf_token"' in form and ">Effacer le jeton</button>" in form
    assert 'href="/admin/parametres"' in form  # the way out keeps the token
    assert f"…{token[-4:]}" in page and token not in page
    assert saved(app).token == token  # looking at the question erases nothing


def test_clearing_the_token_stops_the_prefill_without_any_api_call(tmp_path):
    with sandbox.LoopbackSandbox() as double:
        app = make_app(tmp_path, EXTRA_API_BASE_URLS=[double.url])
        token = mint_token(list(sandbox.DEMO_SCOPES))
        save_directly(app, api_url=double.url, token=token)
        applicant = app.test_client()
        # Before: a SIRET typed by an applicant reaches the API and prefills the form.
        before = applicant.get(f"/demande/tiers?siret={SANDBOX_HEAD_OFFICE}", headers=HX_TIERS)
        assert before.status_code == 200 and NOT_AVAILABLE not in text(before)
        calls = len(double.requests_seen)
        assert calls >= 1

        auth = logged_in(app)
        response = auth.client.post(CLEAR_PATH, data={"csrf_token": auth.csrf(CLEAR_PATH)})
        assert response.status_code == 303
        assert response.headers["Location"] == "/admin/parametres"
        assert saved(app).token == ""
        page = text(auth.client.get("/admin/parametres"))
        assert "Le jeton d'accès a été effacé." in page
        assert "ils remplissent le formulaire eux-mêmes" in page
        assert "Aucun jeton enregistré." in page

        db = database.connect(app.config["DATABASE"])
        journaled = db["api_journal"].count
        # After: another valid SIRET (so no cache can answer) gets the manual-entry message.
        after = applicant.get(f"/demande/tiers?siret={SANDBOX_SECONDARY}", headers=HX_TIERS)
        assert after.status_code == 200
        assert NOT_AVAILABLE in text(after)
        assert len(double.requests_seen) == calls
        assert db["api_journal"].count == journaled
        db.conn.close()


def test_clearing_is_journaled_without_the_token(auth, app, client, db):
    token = saved(app).token
    client.post(CLEAR_PATH, data={"csrf_token": auth.csrf(CLEAR_PATH)})
    rows = list(db.query("SELECT * FROM settings_changes"))
    assert [(row["actor"], row["key"], row["summary"]) for row in rows] == [
        ("alice", "token", "jeton effacé")
    ]
    assert token not in str(rows) and token[-4:] not in rows[0]["summary"]
    assert "jeton effacé" in text(client.get("/admin/parametres"))  # the history


def test_clearing_without_a_token_changes_nothing(auth, app, client, db):
    save_directly(app, token="")
    assert "il n'y a rien à effacer" in text(client.get(CLEAR_PATH))
    response = client.post(CLEAR_PATH, data={"csrf_token": auth.csrf()})
    assert response.status_code == 303
    assert "Aucun jeton n'était enregistré" in text(client.get("/admin/parametres"))
    assert db["settings_changes"].count == 0


def test_clearing_needs_the_csrf_token_and_a_logged_in_admin(auth, app, client):
    token = saved(app).token
    assert client.post(CLEAR_PATH).status_code == 400
    anonymous = app.test_client()
    csrf = csrf_from(anonymous.get("/admin/connexion").data)
    response = anonymous.post(CLEAR_PATH, data={"csrf_token": csrf})
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/admin/connexion?next=")
    assert saved(app).token == token


# -- the switch -------------------------------------------------------------------------


def siret_input(page: str) -> str:
    match = re.search(r'<input[^>]*name="siret"[^>]*>', page, re.S)
    assert match, "the deposit form has no SIRET input"
    return match.group(0)


def test_switch_off_makes_the_deposit_form_manual(auth, app, client):
    assert "hx-post" in siret_input(text(client.get("/demande")))
    response = client.post("/admin/parametres", data=form_data(auth, enabled=None))
    assert response.status_code == 303
    assert saved(app).enabled is False
    page = text(client.get("/demande"))
    assert "hx-post" not in siret_input(page)
    assert "Pré-remplir" not in page


# -- expiry banner ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("days", "level", "title"),
    [
        (200, None, None),
        (80, "info", "Renouvellement du jeton à prévoir"),
        (20, "warning", "Le jeton expire bientôt"),
        (-3, "danger", "Jeton expiré"),
    ],
)
def test_banner_follows_the_token_expiry(auth, app, client, days, level, title):
    save_directly(app, token=mint_token(["open_data"], exp=int(time.time()) + days * DAY + 60))
    for path in ("/admin/", "/admin/parametres", "/admin/demandes"):
        page = text(client.get(path))
        if level is None:
            assert "token-banner" not in page
        else:
            assert f'class="token-banner {level}"' in page, path
            assert title in page
            assert 'href="/admin/guide-jeton"' in page


def test_expired_token_shows_what_to_do(auth, app, client):
    save_directly(app, token=mint_token(["open_data"], exp=int(time.time()) - DAY))
    page = text(client.get("/admin/"))
    assert "Que faire\u202f?" in page and "collez-le dans" in page
    assert "a expiré le" in page


def test_applicant_lookup_refused_with_401_alerts_the_admin(auth, app, client):
    db = database.connect(app.config["DATABASE"])
    journal_row(db, target=OTHER_SIRET, status=401, error_code="00103", kind="token_refused")
    db.conn.close()
    page = text(client.get("/admin/"))
    assert 'class="token-banner danger"' in page
    assert "API Entreprise refuse le jeton" in page
    assert "jeton expiré (401, code 00103)" in page
    assert "recherche de SIRET par un demandeur" in page
    # A later successful call with the same token shows the refusal was transient.
    db = database.connect(app.config["DATABASE"])
    journal_row(db, route="/privileges", target=None, actor="admin alice")
    db.conn.close()
    assert "token-banner" not in text(client.get("/admin/"))
    # A new token pasted after a refusal clears the alert too.
    db = database.connect(app.config["DATABASE"])
    journal_row(db, target=OTHER_SIRET, status=401, error_code="00101", kind="token_refused")
    db.conn.close()
    assert "jeton invalide (401, code 00101)" in text(client.get("/admin/"))
    time.sleep(1.1)  # settings times have one-second precision
    save_directly(app, token=mint_token(["open_data"]))
    assert "token-banner" not in text(client.get("/admin/"))


def test_a_name_search_that_succeeds_leaves_the_token_alert_alone(auth, app, client):
    """The open company search never carries the token: its success proves nothing about a
    refused token, and the dashboard's last success and failure are API Entreprise's."""
    db = database.connect(app.config["DATABASE"])
    journal_row(db, target=OTHER_SIRET, status=401, error_code="00103", kind="token_refused")
    journal_row(db, route="/search", target="q=boulangerie", actor="anonyme")
    db.conn.close()
    page = text(client.get("/admin/"))
    assert "API Entreprise refuse le jeton" in page
    dashboard = re.search(r"Dernier succès\s*(.*?)\s*Dernier échec", page, re.S)
    assert dashboard is not None and "/search" not in dashboard.group(1)
    assert client.get("/healthz").get_json()["api"]["last_success"] is None
    # A refusal on the search (a 403 from its host) is not the token's either.
    db = database.connect(app.config["DATABASE"])
    journal_row(db, route="/privileges", target=None, actor="admin alice")
    journal_row(db, route="/search", target="q=x", status=403, kind="forbidden")
    db.conn.close()
    assert "token-banner" not in text(client.get("/admin/"))


# -- connection test --------------------------------------------------------------------


@contextmanager
def hanging_server():
    """A loopback server that accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    stop = threading.Event()
    held = []

    def accept():
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(2)
        for conn in held:
            conn.close()
        server.close()


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


@contextmanager
def loopback_app(tmp_path, url, **config):
    app = make_app(tmp_path, EXTRA_API_BASE_URLS=[url], CONNECTION_TEST_TIMEOUT=0.5, **config)
    auth = logged_in(app)
    yield app, auth.client, auth


def run_test(client, auth, htmx=True, **overrides):
    data = form_data(auth, action="tester", **overrides)
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post("/admin/parametres", data=data, headers=headers)


def test_connection_ok_lists_the_rights_in_plain_words(tmp_path):
    with (
        sandbox.LoopbackSandbox() as double,
        loopback_app(tmp_path, double.url) as (
            app,
            client,
            auth,
        ),
    ):
        token = mint_token(["open_data", "attestation_fiscale_dgfip"])
        response = run_test(client, auth, api_url=double.url, token=token)
        body = text(response)
        assert response.status_code == 200
        assert "<html" not in body  # the fragment only
        assert "Connexion réussie\u202f: le jeton donne 2 droits." in body
        assert "données ouvertes (open data)" in body and "attestation fiscale (DGFiP)" in body
        assert token not in body
        sent = double.requests_seen[-1]
        assert sent[1] == "/privileges"
        assert sent[3]["Authorization"] == f"Bearer {token}"
        # The typed token was tested, not saved.
        assert saved(app).token != token


def test_connection_test_with_expired_token_says_expired(tmp_path):
    with (
        sandbox.LoopbackSandbox() as double,
        loopback_app(tmp_path, double.url) as (
            _app,
            client,
            auth,
        ),
    ):
        token = mint_token(["open_data"], exp=int(time.time()) - DAY)
        body = text(run_test(client, auth, api_url=double.url, token=token))
        assert "Jeton expiré" in body and "00103" in body
        assert token not in body


def test_connection_test_with_blacklisted_token(tmp_path):
    with (
        sandbox.LoopbackSandbox() as double,
        loopback_app(tmp_path, double.url) as (
            _app,
            client,
            auth,
        ),
    ):
        token = mint_token(["open_data"], subject=sandbox.BLACKLISTED_SUBJECT)
        body = text(run_test(client, auth, api_url=double.url, token=token))
        assert "Jeton sur liste noire" in body


def test_connection_test_timeout(tmp_path):
    with hanging_server() as url, loopback_app(tmp_path, url) as (_app, client, auth):
        started = time.monotonic()
        body = text(run_test(client, auth, api_url=url, token=mint_token(["open_data"])))
        assert time.monotonic() - started < 5
        assert "Délai dépassé" in body


def test_connection_test_unreachable_host(tmp_path):
    url = closed_port_url()
    with loopback_app(tmp_path, url) as (_app, client, auth):
        body = text(run_test(client, auth, api_url=url, token=mint_token(["open_data"])))
        assert "Hôte injoignable" in body and "connexion refusée" in body


def test_connection_test_with_saved_settings_is_journaled(auth, client, db):
    response = run_test(client, auth)
    body = text(response)
    assert "Connexion réussie" in body
    rows = list(db.query("SELECT * FROM api_journal"))
    assert rows and rows[-1]["route"] == "/privileges" and rows[-1]["actor"] == "admin alice"


def test_connection_test_respects_a_rate_limit_pause(tmp_path):
    with (
        sandbox.LoopbackSandbox() as double,
        loopback_app(tmp_path, double.url) as (
            app,
            client,
            auth,
        ),
    ):
        save_directly(app, api_url=double.url)
        db = database.connect(app.config["DATABASE"])
        budget.block_until(db, time.time() + 60)
        db.conn.close()
        body = text(run_test(client, auth, api_url=double.url))
        assert "Appels suspendus" in body and "réessayez dans" in body
        assert double.requests_seen == []


def test_connection_test_refuses_a_new_host_with_the_saved_token(auth, client, db):
    body = text(run_test(client, auth, api_url=PRODUCTION_URL))
    assert "Jeton à ressaisir" in body
    assert db["api_journal"].count == 0


def test_connection_test_refuses_unlisted_url_without_calling(auth, client):
    body = text(run_test(client, auth, api_url="https://evil.example"))
    assert "Adresse de l'API refusée" in body


def test_connection_test_without_javascript_renders_the_page_with_the_result(auth, client):
    response = run_test(client, auth, htmx=False, context="Contexte tapé")
    body = text(response)
    assert response.status_code == 200
    assert "<html" in body
    assert re.search(r'id="connection-result" role="status" aria-live="polite">\s*<div', body)
    assert "Connexion réussie" in body
    assert 'value="Contexte tapé"' in body
    assert "HX-Request" in response.headers["Vary"]


def test_test_button_works_with_and_without_javascript(auth, client):
    page = text(client.get("/admin/parametres"))
    button = re.search(r'<button type="submit" name="action" value="tester"[^>]*>', page, re.S)
    assert button, "the test button must submit the form without JavaScript"
    assert 'hx-post="/admin/parametres"' in button.group(0)
    assert 'hx-target="#connection-result"' in button.group(0)
    # Enter in a field saves: the save button comes first.
    assert page.index('value="enregistrer"') < page.index('value="tester"')


# -- the token never leaks --------------------------------------------------------------


def test_token_never_leaks_in_a_whole_admin_session(tmp_path, caplog):
    caplog.set_level("DEBUG")
    seen = []

    def record(response):
        seen.append(text(response))
        seen.append(str(response.headers))
        return response

    with (
        sandbox.LoopbackSandbox() as double,
        loopback_app(tmp_path, double.url) as (
            app,
            client,
            auth,
        ),
    ):
        token = mint_token(list(sandbox.DEMO_SCOPES))
        runner = app.test_cli_runner()
        seen.append(runner.invoke(args=["settings", "set", "token", "-"], input=token).output)
        for path in (
            "/admin/",
            "/admin/parametres",
            CLEAR_PATH,
            "/admin/demandes",
            "/admin/guide-jeton",
        ):
            record(client.get(path))
        record(run_test(client, auth, api_url=double.url, token=token))
        record(run_test(client, auth, htmx=False, api_url=double.url, token=token))
        record(run_test(client, auth, api_url=double.url))
        record(
            client.post("/admin/parametres", data=form_data(auth, token=token, recipient_siret="1"))
        )
        record(
            client.post("/admin/parametres", data=form_data(auth, api_url=double.url, token=token))
        )
        for path in ("/admin/", "/admin/parametres"):
            record(client.get(path))
        record(client.get("/demande"))
        record(client.get(f"/demande/tiers?siret={OTHER_SIRET}", headers={"HX-Request": "true"}))
        seen.append(runner.invoke(args=["settings", "show"]).output)
        record(auth.logout())

        assert saved(app).token == token  # the token was really used and saved
        for chunk in seen:
            assert token not in chunk
        assert token not in caplog.text
        db = database.connect(app.config["DATABASE"])
        for table in db.table_names():
            if table == "settings":
                continue
            for row in db[table].rows:
                assert token not in str(row), table
        db.conn.close()


@pytest.mark.parametrize(
    ("error", "title"),
    [
        (errors.TokenRefused(status=401, code="00101"), "Jeton invalide"),
        (errors.TokenRefused(status=401, code="00103"), "Jeton expiré"),
        (errors.TokenRefused(status=401, code="00105"), "Jeton sur liste noire"),
        (errors.ScopeMissing(status=403, code="00100"), "Droits insuffisants"),
        (errors.Timeout(note="pas de réponse en 5 s"), "Délai dépassé"),
        (errors.Unreachable(note="nom d'hôte introuvable (DNS)"), "Hôte injoignable"),
        (errors.ProviderUnavailable(status=503), "Fournisseur de données indisponible"),
    ],
)
def test_every_failure_is_told_precisely_and_never_shows_the_token(
    auth, app, client, monkeypatch, error, title
):
    token = saved(app).token
    # An error text echoing the token (a misbehaving proxy) must still not show it.
    error.detail = f"écho {token}"

    class FailingClient:
        def call(self, *_args, **_kwargs):
            raise error

    monkeypatch.setattr(connection_test, "_make_client", lambda *_args: FailingClient())
    body = text(run_test(client, auth))
    assert title in body
    assert token not in body
