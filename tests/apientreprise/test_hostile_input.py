"""Odd input found by review: each once gave a 500 or a permanent block; now a clear answer."""

import base64
import html
import json
import logging
import math

import pytest

from portail.apientreprise import answer, errors
from portail.apientreprise.client import ApiEntrepriseClient
from portail.core.tokens import NotAJwt, mint_token, token_info
from tests.admin_helpers import AuthActions
from tests.fault_double import Reply


def _jwt(claims: dict) -> str:
    def part(data):
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'HS256'})}.{part(claims)}.c2ln"


@pytest.mark.parametrize("exp", [1e20, -1e20, 253402300800, 253402300000])
def test_token_with_absurd_expiry_is_refused_as_not_a_jwt(exp):
    with pytest.raises(NotAJwt):
        token_info(_jwt({"exp": exp, "scopes": []}))


@pytest.mark.parametrize(
    ("value", "expected"),
    [("inf", answer.MAX_RETRY_AFTER), ("1e400", answer.MAX_RETRY_AFTER),
     ("99999999999999999999", answer.MAX_RETRY_AFTER), ("-5", 0.0), ("30", 30.0),
     ("Fri, 31 Dec 9999 23:59:59 GMT", answer.MAX_RETRY_AFTER)],
)  # fmt: skip
def test_retry_after_is_clamped(value, expected):
    wait = answer.retry_after_seconds({"Retry-After": value}, now=1_700_000_000)
    assert wait == expected and math.isfinite(wait)


def test_unclosed_ipv6_bracket_in_next_does_not_break_login(client):
    response = client.get("/admin/connexion?next=http://%5Bx")
    assert response.status_code == 200


def test_unclosed_ipv6_bracket_in_htmx_current_url(client):
    response = client.get("/admin/", headers={"HX-Request": "true", "HX-Current-URL": "http://[x"})
    assert response.status_code in (401, 204)
    assert response.headers["HX-Redirect"].startswith("/admin/connexion")


@pytest.mark.parametrize("query", ["au=9999-12-31", "du=0001-01-01&format=csv"])
def test_journal_far_dates_get_a_field_error(app, client, query):
    app.config["PASSWORD_SCRYPT_N"] = 2**14
    auth = AuthActions(app, client)
    auth.create_admin()
    auth.login()
    response = client.get(f"/admin/journal?{query}")
    assert response.status_code == 422
    assert "entre l'an 2000 et l'an 2100" in html.unescape(response.get_data(as_text=True))


def test_token_echoed_with_json_escapes_never_reaches_errors_or_logs(caplog, double):

    token = mint_token(["open_data"])
    escaped = token.replace(".", "\\u002e")
    body = json.dumps({"errors": [{"code": "00101", "title": "x", "detail": "y"}]})
    double.queue(Reply(401, body.replace('"x"', f'"{escaped}"').encode()))
    client = ApiEntrepriseClient(double.url, token, "21999001700010", "test")
    caplog.set_level(logging.DEBUG)
    with pytest.raises(errors.TokenRefused) as error:
        client.etablissement_diffusible("99912340900016", object_="test")
    exc = error.value
    for text in (str(exc), repr(exc), exc.admin_detail, exc.applicant_message, caplog.text):
        assert token not in text
