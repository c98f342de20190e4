"""The built-in fictitious API Entreprise enforces the real API's rules and answers."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from datetime import datetime
from urllib.parse import urlencode

import pytest
import requests
import urllib3
from stdnum import luhn

from portail.apientreprise import sandbox
from portail.apientreprise.transport import HttpTransport
from portail.core.api_urls import SANDBOX_URL
from portail.core.siret import validate_siret
from portail.core.tokens import mint_token

HEAD_OFFICE = "99912340900016"
PARTIAL_PERSON = "99956784500014"
SLOW = "89901238900016"
QUERY = {"recipient": sandbox.DEMO_RECIPIENT_SIRET, "context": "Subvention", "object": "DEP-42"}
OPEN_DATA = "/v4/insee/sirene/etablissements/diffusibles/{}"
PROTECTED = "/v4/insee/sirene/etablissements/{}"
ASSOCIATION_OPEN_DATA = "/v4/djepva/api-association/associations/open_data/{}"
ASSOCIATION = "/v4/djepva/api-association/associations/{}"
FISCALE = "/v4/dgfip/unites_legales/{}/attestation_fiscale"
VIGILANCE = "/v4/urssaf/unites_legales/{}/attestation_vigilance"

# Each route, an identifier it answers 200 for, and the scopes that open it (any one).
ROUTES = [
    (OPEN_DATA.format(HEAD_OFFICE), ("open_data", "etablissements", "entreprises")),
    (
        PROTECTED.format(HEAD_OFFICE),
        ("unites_legales_etablissements_insee", "etablissements", "entreprises"),
    ),
    (ASSOCIATION_OPEN_DATA.format("W999000417"), ("open_data", "associations")),
    (ASSOCIATION.format("899678957"), ("associations_djepva", "associations_donnees_protegees")),
    (FISCALE.format("999123409"), ("attestation_fiscale_dgfip", "attestations_fiscales")),
    (VIGILANCE.format("999123409"), ("attestation_sociale_urssaf", "attestations_sociales")),
]


# The Sandbox the current test talks to (see the `box` fixture).
_CURRENT: dict[str, sandbox.Sandbox] = {}


@pytest.fixture(autouse=True)
def box(monkeypatch):
    """Every test talks to a Sandbox of its own, so with untouched per-token counters."""
    instance = sandbox.Sandbox()
    monkeypatch.setitem(_CURRENT, "box", instance)
    return instance


def call(path, query=None, token=None, headers=None, box=None):
    """One request to the sandbox (the test's, or box) with the demo token (or the given one)."""
    if headers is None:
        headers = {"Authorization": f"Bearer {token or sandbox.mint_demo_token()}"}
    box = box or _CURRENT["box"]
    return box.handle("GET", path, QUERY if query is None else query, headers)


def errors_of(answer):
    """The (code, title, detail) of each error of an answer."""
    body = json.loads(answer.body)
    assert set(body) == {"errors"}
    for error in body["errors"]:
        assert set(error) == {"code", "title", "detail", "source", "meta"}
    return body["errors"]


def codes_of(answer):
    return [error["code"] for error in errors_of(answer)]


# --- personas ------------------------------------------------------------------------------


def test_personas_are_valid_distinct_and_described_in_french():
    sirets = [p.siret for p in sandbox.PERSONAS]
    assert len(set(sirets)) == len(sirets)
    recipient_siren = sandbox.DEMO_RECIPIENT_SIRET[:9]
    validate_siret(sandbox.DEMO_RECIPIENT_SIRET)
    for persona in sandbox.PERSONAS:
        assert validate_siret(persona.siret) == persona.siret
        assert persona.siret[:9] != recipient_siren
        assert persona.kind in ("ok", "error")
        assert persona.label and persona.shows
    kinds = [p.kind for p in sandbox.PERSONAS]
    assert kinds == sorted(kinds, key=lambda k: k != "ok")  # successes listed first


def test_every_ok_persona_answers_200_on_both_insee_routes():
    for persona in (p for p in sandbox.PERSONAS if p.kind == "ok"):
        for route in (OPEN_DATA, PROTECTED):
            answer = call(route.format(persona.siret))
            assert answer.status == 200, (persona, answer.body[:200])
            assert answer.delay == 0


@pytest.mark.parametrize(
    ("siret", "status", "code"),
    [
        ("89912349100016", 451, "01451"),
        ("89923450400012", 404, "01003"),
        ("89934561500012", 401, "00101"),
        ("89945672700010", 403, "00100"),
        ("89956783800011", 429, "00429"),
        ("89978915000013", 502, "01999"),
        ("89989026300010", 504, "00501"),
    ],
)
def test_error_personas_answer_their_status_and_spec_body(siret, status, code):
    for route in (OPEN_DATA, PROTECTED):
        answer = call(route.format(siret))
        assert answer.status == status
        assert codes_of(answer) == [code]
        assert answer.headers["Content-Type"] == "application/json; charset=utf-8"


def test_error_persona_bodies_use_the_spec_wording():
    (not_found,) = errors_of(call(OPEN_DATA.format("89923450400012")))
    assert not_found["title"] == "Entité non trouvée"
    assert not_found["meta"] == {"provider": "INSEE"}
    assert not_found["source"] is None
    (timeout,) = errors_of(call(OPEN_DATA.format("89989026300010")))
    assert timeout["title"] == "Erreur réseau"
    assert timeout["meta"] == {"retry_in": 10}
    (provider,) = errors_of(call(OPEN_DATA.format("89978915000013")))
    assert provider["title"] == "Erreur inconnue du fournisseur de données"


def test_error_personas_apply_to_every_route_with_its_provider_codes():
    assert codes_of(call(FISCALE.format("899789150"))) == ["03999"]
    assert codes_of(call(VIGILANCE.format("899789150"))) == ["04999"]
    assert codes_of(call(ASSOCIATION_OPEN_DATA.format("899789150"))) == ["29999"]
    assert codes_of(call(FISCALE.format("899234504"))) == ["03003"]
    assert codes_of(call(ASSOCIATION.format("899234504"))) == ["29003"]
    assert call(VIGILANCE.format("899345615")).status == 401


@pytest.mark.parametrize("siret", ["89956783800011", "89967804900011"])
def test_429_personas_say_when_to_retry(siret):
    answer = call(OPEN_DATA.format(siret))
    assert answer.status == 429
    assert int(answer.headers["Retry-After"]) > 0
    assert answer.headers["RateLimit-Remaining"] == "0"
    assert answer.headers["RateLimit-Limit"] == "250"


def test_one_429_persona_has_an_empty_body_like_staging():
    answer = call(OPEN_DATA.format("89967804900011"))
    assert answer.status == 429
    assert answer.body == b""
    assert answer.headers["Content-Type"] == "application/json; charset=utf-8"


def test_slow_persona_takes_longer_than_the_client_timeout():
    answer = call(OPEN_DATA.format(SLOW))
    assert answer.status == 200
    assert answer.delay == 8.0


def test_unknown_siret_is_not_found():
    assert call(OPEN_DATA.format("99912340900040")).status == 404


def test_partially_diffusible_entity_is_masked_on_open_data_only():
    public = json.loads(call(OPEN_DATA.format(PARTIAL_PERSON)).body)["data"]
    person = public["unite_legale"]["personne_physique_attributs"]
    assert person["nom_naissance"] == "[ND]"
    assert person["prenom_usuel"] == "[ND]"
    assert person["sexe"] == "[ND]"
    assert person["nom_usage"] is None  # nothing to withhold
    address = public["adresse"]
    for key in ("numero_voie", "indice_repetition_voie", "type_voie", "libelle_voie"):
        assert address[key] == "[ND]"
    assert address["code_postal"] == "[ND]"
    assert address["complement_adresse"] == "[ND]"
    assert set(address["acheminement_postal"].values()) == {"[ND]"}
    assert address["libelle_commune"] == "CREST"
    assert public["activite_principale"]["code"] == "74.10Z"
    assert public["unite_legale"]["forme_juridique"]["code"] == "1000"
    assert public["status_diffusion"] == "partiellement_diffusible"
    assert public["diffusable_commercialement"] is False

    full = json.loads(call(PROTECTED.format(PARTIAL_PERSON)).body)["data"]
    assert full["unite_legale"]["personne_physique_attributs"]["nom_naissance"] == "LEROUX"
    assert full["adresse"]["numero_voie"] == "7"
    assert "[ND]" not in json.dumps(full)


def test_diffusible_entities_have_no_nd():
    for persona in (p for p in sandbox.PERSONAS if p.kind == "ok" and p.siret != PARTIAL_PERSON):
        assert b"[ND]" not in call(OPEN_DATA.format(persona.siret)).body


def test_redirected_siret_answers_the_new_one():
    body = json.loads(call(OPEN_DATA.format("99989017100013")).body)
    assert body["data"]["siret"] == "99989017100021"
    assert body["meta"]["redirect_from_siret"] == "99989017100013"
    direct = json.loads(call(OPEN_DATA.format("99989017100021")).body)
    assert direct["meta"]["redirect_from_siret"] is None


def test_la_poste_siret_is_accepted_although_not_luhn_valid():
    assert not luhn.is_valid("35600000040011")
    assert call(OPEN_DATA.format("35600000040011")).status == 200


def test_association_routes_take_siren_or_rna_never_siret():
    assert call(ASSOCIATION_OPEN_DATA.format("899678957")).status == 200
    assert call(ASSOCIATION_OPEN_DATA.format("W999000417")).status == 200
    by_siret = call(ASSOCIATION_OPEN_DATA.format("89967895700015"))
    assert by_siret.status == 422
    assert codes_of(by_siret) == ["00333"]
    not_an_association = call(ASSOCIATION_OPEN_DATA.format("999123409"))
    assert not_an_association.status == 404


def test_open_data_association_omits_protected_lists():
    public = json.loads(call(ASSOCIATION_OPEN_DATA.format("899678957")).body)["data"]
    full = json.loads(call(ASSOCIATION.format("899678957")).body)["data"]
    assert "representants_legaux" not in public["etablissements"][0]
    assert full["etablissements"][0]["representants_legaux"][0]["nom"] == "FONTAINE"
    assert public["activites"]["objet"] == full["activites"]["objet"]


def test_attestations_have_a_document_on_the_sandbox_host():
    fiscale = json.loads(call(FISCALE.format("999123409")).body)["data"]
    assert fiscale["document_url"].startswith(SANDBOX_URL)
    vigilance = json.loads(call(VIGILANCE.format("999123409")).body)["data"]
    assert vigilance["entity_status"]["code"] == "ok"
    refused = json.loads(call(VIGILANCE.format("999345622")).body)["data"]  # ceased company
    assert refused["entity_status"]["code"] == "refus_de_delivrance"
    assert refused["document_url"] is None


# --- tokens and scopes -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({}, "00101"),
        ({"Authorization": "Bearer "}, "00101"),
        ({"Authorization": "Bearer not-a-jwt"}, "00101"),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, "00101"),
        ({"Authorization": f"Bearer {mint_token(['open_data'], exp=1_000_000_000)}"}, "00103"),
        ({"Authorization": f"Bearer {mint_token(['open_data'], subject='blacklisted')}"}, "00105"),
    ],
    ids=["missing", "empty", "not-jwt", "not-bearer", "expired", "blacklisted"],
)
def test_token_rules(headers, code):
    answer = call(OPEN_DATA.format(HEAD_OFFICE), headers=headers)
    assert answer.status == 401
    assert codes_of(answer) == [code]
    assert "X-Request-ID" in answer.headers


@pytest.mark.parametrize(("path", "scopes"), ROUTES, ids=[r[0].split("/")[2] for r in ROUTES])
def test_each_route_needs_one_of_its_scopes(path, scopes):
    for scope in scopes:
        assert call(path, token=mint_token([scope])).status == 200, scope
    refused = call(path, token=mint_token(["attestations_agefiph"]))
    assert refused.status == 403
    assert codes_of(refused) == ["00100"]


def test_demo_scopes_open_every_route():
    for path, _ in ROUTES:
        assert call(path).status == 200, path


def test_privileges_lists_the_token_scopes_without_params():
    answer = call("/privileges", query={}, token=mint_token(["open_data", "associations"]))
    assert answer.status == 200
    assert json.loads(answer.body) == {"privileges": ["open_data", "associations"]}
    assert call("/privileges", query={}, headers={}).status == 401


# --- mandatory parameters ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("missing", "code"), [("context", "00201"), ("object", "00202"), ("recipient", "00203")]
)
def test_each_missing_parameter_has_its_code(missing, code):
    query = {k: v for k, v in QUERY.items() if k != missing}
    answer = call(OPEN_DATA.format(HEAD_OFFICE), query=query)
    assert answer.status == 422
    (error,) = errors_of(answer)
    assert error["code"] == code
    assert error["detail"] == f"Le paramètre {missing} est obligatoire"
    assert error["source"] == {"parameter": missing}


def test_all_missing_parameters_are_reported_together():
    answer = call(OPEN_DATA.format(HEAD_OFFICE), query={"context": ""})
    assert codes_of(answer) == ["00201", "00202", "00203"]


def test_recipient_must_be_a_siret():
    answer = call(OPEN_DATA.format(HEAD_OFFICE), query={**QUERY, "recipient": "219990017"})
    assert answer.status == 422
    (error,) = errors_of(answer)
    assert error["code"] == "00210"
    assert error["detail"] == "Le paramètre recipient n'est pas un siret valide"


@pytest.mark.parametrize(
    ("path", "recipient"),
    [
        (OPEN_DATA.format(HEAD_OFFICE), HEAD_OFFICE),
        (OPEN_DATA.format(HEAD_OFFICE), "99912340900024"),  # same SIREN, other establishment
        (FISCALE.format("999123409"), HEAD_OFFICE),
        (ASSOCIATION_OPEN_DATA.format("W999000417"), "89967895700015"),  # RNA of that SIREN
    ],
)
def test_recipient_cannot_be_the_target(path, recipient):
    answer = call(path, query={**QUERY, "recipient": recipient})
    assert answer.status == 422
    (error,) = errors_of(answer)
    assert error["code"] == "00211"
    assert error["title"] == "Le paramètre recipient est identique au SIRET/SIREN appelé."


def test_malformed_identifiers_are_unprocessable():
    assert codes_of(call(OPEN_DATA.format("99912340900017"))) == ["00302"]  # bad Luhn key
    assert codes_of(call(OPEN_DATA.format("9991234090001"))) == ["00302"]
    assert codes_of(call(FISCALE.format("99912340"))) == ["00301"]


# --- headers and rate limit -------------------------------------------------------------------


def test_200_answers_carry_request_id_and_rate_limit_headers():
    box = sandbox.Sandbox(clock=lambda: 1_800_000_030.5)
    token = sandbox.mint_demo_token()
    first = call(OPEN_DATA.format(HEAD_OFFICE), token=token, box=box)
    second = call(OPEN_DATA.format(HEAD_OFFICE), token=token, box=box)
    assert first.headers["Content-Type"] == "application/json; charset=utf-8"
    assert uuid.UUID(first.headers["X-Request-ID"]).version == 4
    assert first.headers["X-Request-ID"] != second.headers["X-Request-ID"]
    assert first.headers["RateLimit-Limit"] == "250"
    assert first.headers["RateLimit-Remaining"] == "249"
    assert second.headers["RateLimit-Remaining"] == "248"
    assert first.headers["RateLimit-Reset"] == "1800000060"  # end of the minute window


def test_rate_limit_answers_429_after_250_calls_per_token_and_minute():
    now = [1_800_000_005.0]
    box = sandbox.Sandbox(clock=lambda: now[0])
    token = sandbox.mint_demo_token()
    headers = {"Authorization": f"Bearer {token}"}
    for _ in range(250):
        assert box.handle("GET", "/privileges", {}, headers).status == 200
    limited = call(OPEN_DATA.format(HEAD_OFFICE), token=token, box=box)
    assert limited.status == 429
    assert codes_of(limited) == ["00429"]
    assert limited.headers["Retry-After"] == "55"
    assert limited.headers["RateLimit-Remaining"] == "0"
    # Another token has its own budget.
    assert call(OPEN_DATA.format(HEAD_OFFICE), box=box).status == 200
    # The next minute starts afresh.
    now[0] = 1_800_000_061.0
    assert call(OPEN_DATA.format(HEAD_OFFICE), token=token, box=box).status == 200


def test_rate_limits_belong_to_one_sandbox_and_reset_on_demand():
    now = [1_800_000_005.0]
    exhausted = sandbox.Sandbox(clock=lambda: now[0])
    other = sandbox.Sandbox(clock=lambda: now[0])
    headers = {"Authorization": f"Bearer {sandbox.mint_demo_token()}"}
    for _ in range(sandbox.RATE_LIMIT):
        exhausted.handle("GET", "/privileges", {}, headers)
    assert exhausted.handle("GET", "/privileges", {}, headers).status == 429
    # Another app's sandbox (another instance) counts on its own.
    assert other.handle("GET", "/privileges", {}, headers).status == 200
    exhausted.reset_rate_limits()
    answer = exhausted.handle("GET", "/privileges", {}, headers)
    assert answer.status == 200
    assert answer.headers["RateLimit-Remaining"] == str(sandbox.RATE_LIMIT - 1)


def test_attestation_dates_count_from_the_sandbox_clock():
    noon = datetime(2027, 3, 15, 12, 0).timestamp()  # local time, like date.today()
    box = sandbox.Sandbox(clock=lambda: noon)
    fiscale = json.loads(call(FISCALE.format("999123409"), box=box).body)["data"]
    assert fiscale["date_delivrance_attestation"] == "2027-03-15"
    assert fiscale["date_periode_analysee"] == "2027-02-28"
    vigilance = json.loads(call(VIGILANCE.format("999123409"), box=box).body)["data"]
    assert vigilance["date_debut_validite"] == "2027-03-15"
    assert vigilance["date_fin_validite"] == "2027-09-13"  # 182 days later
    assert vigilance["code_securite"] == "SBX999123409"


def test_unknown_route_and_method(box):
    assert call("/v4/insee/sirene/inconnu").status == 404
    post = box.handle("POST", "/privileges", {}, {})
    assert post.status == 405


# --- in-process transport ---------------------------------------------------------------------


def in_process(path, timeout=5.0, token=None, box=None):
    """A GET answered by a Sandbox in process, through the transport the wiring builds."""
    headers = {"Authorization": f"Bearer {token or sandbox.mint_demo_token()}"}
    transport = HttpTransport(sandbox_handler=(box or _CURRENT["box"]).handle)
    response = transport.get(SANDBOX_URL, f"{path}?{urlencode(QUERY)}", headers, timeout)
    return response.raw


def test_in_process_transport_returns_a_real_urllib3_response():
    started = time.monotonic()
    response = in_process(OPEN_DATA.format(HEAD_OFFICE))
    assert isinstance(response, urllib3.BaseHTTPResponse)
    assert response.status == 200
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    body = response.read1(1 << 20, decode_content=True)
    assert json.loads(body)["data"]["siret"] == HEAD_OFFICE
    assert "Mécanique industrielle" in body.decode()
    assert time.monotonic() - started < 1


def test_in_process_transport_passes_errors_through():
    response = in_process(OPEN_DATA.format("89912349100016"))
    assert response.status == 451
    assert json.loads(response.read())["errors"][0]["code"] == "01451"
    empty = in_process(OPEN_DATA.format("89967804900011"))
    assert empty.status == 429
    assert empty.read() == b""
    assert empty.headers["Retry-After"]


def test_in_process_transport_times_out_on_the_slow_persona_without_waiting_8_seconds():
    started = time.monotonic()
    with pytest.raises(requests.exceptions.ReadTimeout):
        in_process(OPEN_DATA.format(SLOW), timeout=0.2)
    assert time.monotonic() - started < 2


def test_in_process_transport_waits_a_delay_shorter_than_the_timeout():
    box = sandbox.Sandbox(slow_delay=0.2)
    started = time.monotonic()
    response = in_process(OPEN_DATA.format(SLOW), timeout=2, box=box)
    assert response.status == 200
    assert time.monotonic() - started >= 0.2


# --- loopback HTTP server ---------------------------------------------------------------------


def test_loopback_sandbox_serves_real_http_and_counts_requests():
    token = sandbox.mint_demo_token()
    headers = {"Authorization": f"Bearer {token}"}
    with sandbox.LoopbackSandbox() as server, urllib3.PoolManager() as http:
        assert server.url.startswith("http://127.0.0.1:")
        query = "?" + urlencode(QUERY)
        ok = http.request(
            "GET", f"{server.url}{OPEN_DATA.format(HEAD_OFFICE)}{query}", headers=headers
        )
        assert ok.status == 200
        assert ok.json()["data"]["siret"] == HEAD_OFFICE
        assert ok.headers["RateLimit-Limit"] == "250"
        assert ok.headers["Content-Type"] == "application/json; charset=utf-8"
        empty = http.request(
            "GET",
            f"{server.url}{OPEN_DATA.format('89967804900011')}{query}",
            headers=headers,
            retries=False,
        )
        assert empty.status == 429
        assert empty.data == b""
        assert empty.headers["Retry-After"]
        assert len(server.requests_seen) == 2
        method, path, seen_query, seen_headers = server.requests_seen[0]
        assert (method, path) == ("GET", OPEN_DATA.format(HEAD_OFFICE))
        assert seen_query == QUERY
        assert seen_headers["Authorization"] == f"Bearer {token}"


def test_loopback_sandbox_does_not_block_on_a_slow_answer():
    started = time.monotonic()
    headers = {"Authorization": f"Bearer {sandbox.mint_demo_token()}"}
    with sandbox.LoopbackSandbox() as server, urllib3.PoolManager(retries=False) as http:
        with pytest.raises(urllib3.exceptions.ReadTimeoutError):
            http.request(
                "GET",
                f"{server.url}{OPEN_DATA.format(SLOW)}?{urlencode(QUERY)}",
                headers=headers,
                timeout=0.3,
            )
        # Another request is served while the slow one is still in flight.
        fast = http.request("GET", f"{server.url}/privileges", headers=headers, timeout=2)
        assert fast.status == 200
    assert time.monotonic() - started < 3


def test_loopback_sandbox_serves_the_sandbox_it_is_given():
    box = sandbox.Sandbox(slow_delay=0.0)
    headers = {"Authorization": f"Bearer {sandbox.mint_demo_token()}"}
    with sandbox.LoopbackSandbox(sandbox=box) as server, urllib3.PoolManager() as http:
        fast = http.request(
            "GET",
            f"{server.url}{OPEN_DATA.format(SLOW)}?{urlencode(QUERY)}",
            headers=headers,
            timeout=2,
        )
        assert fast.status == 200
    # The requests went through box: its limiter counted them.
    assert box.handle("GET", "/privileges", {}, headers).headers["RateLimit-Remaining"] == "248"


# --- command line -----------------------------------------------------------------------------


def test_module_entry_point_describes_the_loopback_sandbox():
    done = subprocess.run(
        [sys.executable, "-m", "portail.apientreprise.sandbox", "--help"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "python -m portail.apientreprise.sandbox" in done.stdout
    assert "--port" in done.stdout
