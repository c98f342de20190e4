"""Property-based tests (hypothesis) of every form and query parameter of the public routes:
whatever is typed or forged, never a 500, and a 422 loses nothing typed (each posted printable
value comes back in the page, HTML-escaped)."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markupsafe import escape

from app import create_app
from forms.deposit import ETAT_CHOICES, SIEGE_CHOICES
from portail.applicant.form_values import TEXT_FIELDS

QUICK = settings(
    max_examples=60,
    deadline=None,
    database=None,  # no .hypothesis/ folder in the tree
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

SELECTS = {"siege_social": SIEGE_CHOICES, "etat_administratif": ETAT_CHOICES}

# Anything a person or a script may send: any text (no surrogates: form encoding is UTF-8),
# short enough that the portal's 5,000-character bound never applies.
ANY = st.text(max_size=40)
WORDISH = st.text(st.characters(codec="utf-8"), min_size=1, max_size=30)


@pytest.fixture(scope="module")
def portal(tmp_path_factory):
    folder = tmp_path_factory.mktemp("properties")
    app = create_app(
        {
            "TESTING": True,
            "DATABASE": str(folder / "portail.sqlite3"),
            "SECRET_KEY": "test-secret-key-not-for-production",
            "FILING_LIMIT_PER_MINUTE": 0,
            "FILING_LIMIT_PER_DAY": 0,
        }
    )
    return app.test_client()


def token(client, path="/demande") -> str:
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page)[1]


def echoed(value: str) -> bool:
    """A value the page must show back: printable and not blank."""
    return bool(value.strip()) and value.isprintable()


def assert_sane(response):
    assert response.status_code < 500, response.status_code
    assert "Traceback" not in response.get_data(as_text=True)


@QUICK
@given(fields=st.fixed_dictionaries({}, optional={name: ANY for name in TEXT_FIELDS}))
def test_a_filing_post_never_fails_and_a_422_keeps_every_value(portal, fields):
    # At least one field besides the SIRET is typed: a lone SIRET is the prefill path.
    data = {**fields, "intitule_projet": fields.get("intitule_projet") or "Projet témoin"}
    response = portal.post("/demande", data={**data, "csrf_token": token(portal)})
    assert_sane(response)
    assert response.status_code in (303, 422)
    if response.status_code == 303:
        return
    page = response.get_data(as_text=True)
    for name, value in data.items():
        if name in SELECTS:
            # A <select> shows its own options: a forged value is refused by name.
            if value not in SELECTS[name]:
                assert re.search(rf'id="f-{name}-error"', page), name
            continue
        if echoed(value):
            assert str(escape(value)) in page, (name, value)


@QUICK
@given(fields=st.fixed_dictionaries({name: WORDISH for name in ("email", "montant_demande")}))
def test_an_expired_session_keeps_every_value(portal, fields):
    response = portal.post("/demande", data={**fields, "csrf_token": "stale"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Votre session a expiré" in page
    for value in fields.values():
        if echoed(value):
            assert str(escape(value)) in page, value


@QUICK
@given(siret=ANY, other=ANY, htmx=st.booleans())
def test_a_lookup_link_never_fails(portal, siret, other, htmx):
    headers = {"HX-Request": "true", "HX-Target": "tiers-block"} if htmx else {}
    planted = f"zq-{other}"
    response = portal.get(
        "/demande/tiers", query_string={"siret": siret, "email": planted}, headers=headers
    )
    assert_sane(response)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert str(escape(planted)) not in page  # the link is read for its SIRET alone


@QUICK
@given(fields=st.fixed_dictionaries({}, optional={n: ANY for n in (*TEXT_FIELDS, "use_siret")}))
def test_the_htmx_lookup_post_never_fails(portal, fields):
    headers = {"HX-Request": "true", "HX-Target": "tiers-block", "X-CSRFToken": token(portal)}
    response = portal.post("/demande/tiers", data=fields, headers=headers)
    assert_sane(response)
    assert response.status_code == 200


@QUICK
@given(ref=ANY)
def test_a_receipt_url_never_fails(portal, ref):
    response = portal.get(f"/demande/{quote(ref, safe='')}/recu")
    assert_sane(response)
    assert response.status_code in (200, 404, 308)


@QUICK
@given(params=st.dictionaries(ANY, ANY, max_size=3))
def test_healthz_never_fails(portal, params):
    response = portal.get("/healthz", query_string=params)
    assert response.status_code in (200, 503)


@settings(QUICK, max_examples=8)  # each attempt hashes with scrypt, like a real login
@given(username=ANY, password=WORDISH, next_url=ANY)
def test_the_admin_login_form_never_fails_nor_echoes_the_password(
    portal, username, password, next_url
):
    data = {
        "csrf_token": token(portal, "/admin/connexion"),
        "username": username,
        "password": f"pw-{password}",
        "next": next_url,
    }
    response = portal.post("/admin/connexion", data=data)
    assert_sane(response)
    assert str(escape(f"pw-{password}")) not in response.get_data(as_text=True)
