"""The API Entreprise client against a loopback double: one exception per error class, every
fault bounded in time, the token never in an error, never a retry or a redirect followed."""

from __future__ import annotations

import http.server
import json
import logging
import pickle  # noqa: S403 - round-trips our own exceptions
import shutil
import ssl
import subprocess
import threading
import time
import urllib.request

import pytest
import requests

from portail.apientreprise import answer, errors, transport
from portail.apientreprise.client import ApiEntrepriseClient
from portail.core.tokens import mint_token
from tests.fault_double import Reply, error_body, etablissement_body, refused_url

SIRET = "12345678900011"
RECIPIENT = "21999001700010"
TIMEOUT = 0.5
MARGIN = 0.6  # scheduling slack on a loaded CI machine


@pytest.fixture
def token():
    """A fictitious JWT, fresh per test."""
    return mint_token(["open_data"])


@pytest.fixture
def client(double, token):
    """A client on the double with a short timeout."""
    return ApiEntrepriseClient(double.url, token, RECIPIENT, "Aides publiques", timeout=TIMEOUT)


def _raises(client, cls):
    with pytest.raises(cls) as caught:
        client.etablissement_diffusible(SIRET, object_="test")
    return caught.value


def test_success_returns_the_whole_body_and_request_id(client, double, token):
    answer = client.etablissement_diffusible(SIRET, object_="Demande AIDE-1")
    assert answer.status == 200
    assert answer.data["data"]["siret"] == SIRET
    assert answer.request_id
    seen = double.seen[0]
    assert seen.path == f"/v4/insee/sirene/etablissements/diffusibles/{SIRET}"
    assert seen.headers["Authorization"] == f"Bearer {token}"
    assert seen.query == {
        "recipient": RECIPIENT,
        "context": "Aides publiques",
        "object": "Demande AIDE-1",
    }
    assert token not in str(seen.query)


def test_object_is_cut_below_fifty_characters(client, double):
    client.etablissement_diffusible(SIRET, object_="x" * 80)
    assert len(double.seen[0].query["object"]) == 49


def test_association_route_takes_a_siren(client, double):
    answer = client.association_open_data("123456789", object_="test")
    assert answer.data["data"]["rna"]
    assert double.seen[0].path == "/v4/djepva/api-association/associations/open_data/123456789"


def test_privileges_lists_scopes(client, double):
    assert client.privileges() == ["open_data"]
    assert double.seen[0].query == {}


@pytest.mark.parametrize(
    ("status", "code", "cls", "kind"),
    [
        (401, "00101", errors.TokenRefused, "token_refused"),
        (401, "00103", errors.TokenRefused, "token_refused"),
        (401, "00105", errors.TokenRefused, "token_refused"),
        (403, "00100", errors.ScopeMissing, "scope_missing"),
        (404, "01003", errors.NotFound, "not_found"),
        (409, "00015", errors.DuplicateInFlight, "duplicate"),
        (422, "00302", errors.BadParameter, "bad_parameter"),
        (422, "00211", errors.RecipientIsTarget, "recipient_is_target"),
        (451, "", errors.NotPublic, "not_public"),
        (502, "01999", errors.ProviderUnavailable, "unavailable"),
        (503, "01001", errors.ProviderUnavailable, "unavailable"),
        (504, "01002", errors.ProviderUnavailable, "unavailable"),
        (500, "", errors.ProviderUnavailable, "unavailable"),
    ],
)
def test_status_then_code_gives_the_exception(client, double, token, status, code, cls, kind):
    body = error_body(code, "Titre de test", "Détail de test") if code else ""
    double.queue(Reply(status=status, body=body, headers={"X-Request-ID": "req-42"}))
    error = _raises(client, cls)
    assert type(error) is cls
    assert error.kind == kind
    assert error.status == status
    assert error.code == (code or None)
    assert "req-42" in error.admin_detail
    assert error.applicant_message
    assert token not in str(error) + repr(error) + error.admin_detail + repr(error.args)


def test_token_refusal_tells_the_admin_what_to_do(client, double):
    double.queue(Reply(status=401, body=error_body("00103", "Jeton expiré")))
    error = _raises(client, errors.TokenRefused)
    assert "nouveau jeton" in error.admin_detail
    assert error.applicant_message == (
        "Le pré-remplissage est momentanément indisponible. "
        "Vous pouvez compléter les champs vous-même."
    )


def test_not_found_does_not_say_the_siret_does_not_exist(client, double):
    double.queue(Reply(status=404, body=error_body("01003", "Entité non trouvée")))
    message = _raises(client, errors.NotFound).applicant_message
    assert "Aucune donnée publique" in message
    assert "n'existe pas" not in message


def test_unsupported_version_is_our_fault_not_an_unknown_siret(client, double):
    double.queue(Reply(status=404, body=error_body("00402", "Version d'API non prise en charge")))
    _raises(client, errors.BadAnswer)


def test_rate_limited_reads_retry_after_and_is_not_retried(client, double):
    double.queue(
        Reply(
            status=429, body=error_body("00429", "Trop de requêtes"), headers={"Retry-After": "30"}
        )
    )
    started = time.monotonic()
    error = _raises(client, errors.RateLimited)
    # urllib3 would sleep 30 s and retry by default; here the 429 comes straight back.
    assert time.monotonic() - started < 1.0
    assert error.retry_after == 30
    assert double.count() == 1
    assert "30 secondes" in error.applicant_message
    assert "saturé" in error.applicant_message


def test_empty_429_as_staging_sends_it(client, double):
    reset = int(time.time()) + 40
    double.queue(
        Reply(
            status=429,
            body=b"",
            headers={
                "RateLimit-Limit": "250",
                "RateLimit-Remaining": "0",
                "RateLimit-Reset": str(reset),
                "Retry-After": "32",
            },
        )
    )
    error = _raises(client, errors.RateLimited)
    assert error.retry_after == 32
    assert error.headers["RateLimit-Remaining"] == "0"


def test_429_without_retry_after_falls_back_to_the_window_reset(client, double):
    double.queue(
        Reply(status=429, body=b"", headers={"RateLimit-Reset": str(int(time.time()) + 20)})
    )
    error = _raises(client, errors.RateLimited)
    assert 15 <= error.retry_after <= 21


def test_provider_unavailable_reads_meta_retry_in(client, double):
    double.queue(Reply(status=504, body=error_body("00501", "Erreur réseau", retry_in=10)))
    error = _raises(client, errors.ProviderUnavailable)
    assert error.retry_after == 10
    assert double.count() == 1  # no status retry either


def test_html_error_page_still_maps_on_the_status(client, double):
    double.queue(Reply(status=502, body="<html>Bad gateway</html>", content_type="text/html"))
    _raises(client, errors.ProviderUnavailable)


def test_redirect_is_never_followed(client, double):
    double.queue(Reply(status=302, body=b"", headers={"Location": double.url + "/elsewhere"}))
    error = _raises(client, errors.BadAnswer)
    assert "redirection" in error.admin_detail
    assert double.count() == 1
    assert double.count("/elsewhere") == 0


def test_a_redirect_body_is_read_under_the_deadline_and_the_cap_too(double, token):
    # requests reads a 3xx's whole body to prepare the redirect it will not follow: a 302
    # that trickles or never ends must not escape the deadline nor the size cap for that.
    client = ApiEntrepriseClient(
        double.url, token, RECIPIENT, "ctx", timeout=TIMEOUT, max_body_bytes=100_000
    )
    elsewhere = {"Location": double.url + "/elsewhere"}
    double.queue(
        Reply(status=302, body="x" * 60, headers=elsewhere, trickle=0.05),  # 3 s
        Reply(status=302, body="x" * 400_000, headers=elsewhere, chunked=True),
    )
    started = time.monotonic()
    with pytest.raises(errors.Timeout):
        client.etablissement_diffusible(SIRET, object_="test")
    assert time.monotonic() - started < TIMEOUT + MARGIN
    with pytest.raises(errors.BadAnswer) as caught:
        client.etablissement_diffusible(SIRET, object_="test")
    assert "100000" in caught.value.admin_detail
    assert double.count("/elsewhere") == 0


def test_hanging_server_times_out_within_the_timeout(client, double):
    double.queue(Reply(hang=True))
    started = time.monotonic()
    _raises(client, errors.Timeout)
    assert time.monotonic() - started < TIMEOUT + MARGIN


def test_trickling_body_is_cut_at_the_total_deadline(client, double):
    # One byte every 50 ms: each read is quick, the whole body would take minutes.
    double.queue(Reply(trickle=0.05))
    started = time.monotonic()
    error = _raises(client, errors.Timeout)
    assert time.monotonic() - started < TIMEOUT + MARGIN
    assert "incomplète" in error.admin_detail


def test_invalid_json_is_a_bad_answer(client, double):
    double.queue(Reply(body="{not json"))
    assert "JSON invalide" in _raises(client, errors.BadAnswer).admin_detail


def test_wrong_content_type_is_a_bad_answer(client, double):
    double.queue(Reply(body="<html>portail captif</html>", content_type="text/html"))
    assert "text/html" in _raises(client, errors.BadAnswer).admin_detail


def test_missing_data_is_a_bad_answer(client, double):
    double.queue(Reply(body={"errors": []}))
    _raises(client, errors.BadAnswer)


def test_huge_declared_body_is_refused_before_reading(client, double):
    double.queue(Reply(body=b"{}", content_length=50 * 1024 * 1024))
    started = time.monotonic()
    _raises(client, errors.BadAnswer)
    assert time.monotonic() - started < TIMEOUT


def test_huge_chunked_body_is_cut_at_the_cap(double, token):
    small = ApiEntrepriseClient(
        double.url, token, RECIPIENT, "ctx", timeout=2.0, max_body_bytes=100_000
    )
    body = etablissement_body(SIRET)
    body["links"] = {"padding": "x" * 400_000}
    double.queue(Reply(body=body, chunked=True))
    with pytest.raises(errors.BadAnswer) as caught:
        small.etablissement_diffusible(SIRET, object_="test")
    assert "100000" in caught.value.admin_detail


def test_connection_refused_is_unreachable(token):
    refused = ApiEntrepriseClient(refused_url(), token, RECIPIENT, "ctx", timeout=TIMEOUT)
    started = time.monotonic()
    with pytest.raises(errors.Unreachable) as caught:
        refused.etablissement_diffusible(SIRET, object_="test")
    assert time.monotonic() - started < TIMEOUT + MARGIN
    assert "connexion refusée" in caught.value.admin_detail
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_dropped_connection_is_a_transport_error(client, double):
    double.queue(Reply(drop=True))
    _raises(client, errors.TransportError)


def test_token_never_in_errors_nor_logs(double, token, caplog):
    caplog.set_level(logging.DEBUG)
    client = ApiEntrepriseClient(double.url, token, RECIPIENT, "ctx", timeout=TIMEOUT)
    # A proxy echoing our headers back in its error page.
    double.queue(
        Reply(status=502, body=error_body("01999", f"Bearer {token}", f"echo {token}")),
        Reply(hang=True),
        Reply(body=f"{{ {token}"),
    )
    raised = []
    for _ in range(3):
        with pytest.raises(errors.ApiEntrepriseError) as caught:
            client.etablissement_diffusible(SIRET, object_="test")
        raised.append(caught.value)
    for error in raised:
        text = " ".join(
            [str(error), repr(error), repr(error.args), error.admin_detail, error.applicant_message]
        )
        assert token not in text
        restored = pickle.loads(pickle.dumps(error))  # noqa: S301
        assert token not in repr(restored.__dict__)
    assert token not in repr(client)
    assert caplog.records
    assert all(token not in record.getMessage() for record in caplog.records)


def test_errors_survive_pickling_for_multiprocessing(client, double):
    double.queue(Reply(status=429, body=b"", headers={"Retry-After": "7"}))
    error = _raises(client, errors.RateLimited)
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301
    assert type(copy) is errors.RateLimited and copy.retry_after == 7 and str(copy) == str(error)


def test_a_429_with_retry_after_comes_back_at_once_never_retried(client, double):
    # urllib3 would sleep Retry-After and retry by default: the shared budget decides instead.
    double.queue(Reply(status=429, body=b"", headers={"Retry-After": "30"}))
    started = time.monotonic()
    error = _raises(client, errors.RateLimited)
    assert time.monotonic() - started < 1.0
    assert error.retry_after == 30
    assert double.count() == 1


def test_a_redirect_is_never_followed(client, double):
    double.queue(Reply(status=302, body=b"", headers={"Location": double.url + "/elsewhere"}))
    _raises(client, errors.BadAnswer)
    assert double.count() == 1  # the token never travels to the Location


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (None, "dans quelques instants"),
        (1.2, "dans environ 2 secondes"),
        (600, "dans environ 10 minutes"),
    ],
)
def test_wait_words(seconds, words):
    assert errors._wait_words(seconds) == words


def test_rate_limit_info_accepts_epoch_or_delta():
    now = 1_700_000_000.0
    assert answer.rate_limit_info({"RateLimit-Reset": "1700000030"}, now).reset_at == 1_700_000_030
    assert answer.rate_limit_info({"RateLimit-Reset": "30"}, now).reset_at == now + 30
    assert answer.rate_limit_info({}, now) is None


@pytest.fixture
def proxy_env(monkeypatch):
    """Set HTTP_PROXY / NO_PROXY for one test (lower-case twins and the other proxy variables
    removed). Each client below builds its own transport, so reads the environment afresh."""
    for name in ("HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)

    def set_proxy(proxy: str, no_proxy: str | None = None) -> None:
        monkeypatch.setenv("HTTP_PROXY", proxy)
        if no_proxy:
            monkeypatch.setenv("NO_PROXY", no_proxy)

    return set_proxy


def far_client(token):
    """A client for an API host that only the proxy can reach."""
    return ApiEntrepriseClient(
        "http://api-entreprise.example", token, RECIPIENT, "Aides", timeout=TIMEOUT
    )


def test_proxy_from_the_environment_is_honoured_and_no_proxy_too(proxy_env, double, token):
    # The double plays the proxy: an HTTP proxy receives the absolute URL in the request line.
    proxy_env(double.url, no_proxy="bypassed.example")
    answer = far_client(token).etablissement_diffusible(SIRET, object_="via proxy")
    assert answer.status == 200
    assert double.seen[-1].path == f"/v4/insee/sirene/etablissements/diffusibles/{SIRET}"
    proxies, _verify = transport.environment_settings("http://api-entreprise.example")
    assert proxies["http"] == double.url
    assert transport.environment_settings("http://bypassed.example")[0] == {}


@pytest.mark.parametrize(
    ("written", "authorization"),
    [
        ("{host}", None),  # no scheme: http:// is meant
        ("http://alice:s%40cret@{host}", "Basic YWxpY2U6c0BjcmV0"),  # alice:s@cret
    ],
    ids=["without-scheme", "with-credentials"],
)
def test_proxies_without_a_scheme_or_with_credentials_work(
    proxy_env, double, token, written, authorization
):
    proxy_env(written.format(host=double.url.removeprefix("http://")))
    assert far_client(token).etablissement_diffusible(SIRET, object_="via proxy").status == 200
    received = {name.lower(): value for name, value in double.seen[-1].headers.items()}
    assert received.get("proxy-authorization") == authorization


def test_the_environment_is_not_rescanned_on_every_call(proxy_env, monkeypatch, double, token):
    proxy_env(double.url)
    client = far_client(token)
    client.etablissement_diffusible(SIRET, object_="first")

    def scanned(*args, **kwargs):
        pytest.fail("environment scanned again")

    # Every way requests (or the transport) reads proxies, NO_PROXY or ~/.netrc.
    monkeypatch.setattr(transport, "environment_settings", scanned)
    for module in (requests.utils, requests.sessions):
        for name in ("get_environ_proxies", "get_netrc_auth", "resolve_proxies"):
            monkeypatch.setattr(module, name, scanned)
    for name in ("getproxies", "proxy_bypass", "should_bypass_proxies"):
        monkeypatch.setattr(requests.utils, name, scanned)
    monkeypatch.setattr(urllib.request, "getproxies", scanned)
    monkeypatch.setattr(urllib.request, "proxy_bypass", scanned)
    assert client.etablissement_diffusible(SIRET, object_="second").status == 200
    assert double.count() == 2  # both through the proxy


def test_a_token_echoed_as_an_object_key_is_scrubbed_too(client, double, token):
    body = etablissement_body(SIRET)
    body["meta"] = {token.replace("e", "\\u0065", 1): "echo"}
    double.queue(Reply(body=json.dumps(body).replace("\\\\u0065", "\\u0065").encode()))
    answer = client.etablissement_diffusible(SIRET, object_="test")
    assert token not in json.dumps(answer.data)


@pytest.mark.parametrize("escape", [".", "e"])
def test_token_echoed_with_json_escapes_in_a_success_body_is_scrubbed(
    client, double, token, escape
):
    # A hostile or broken upstream echoes the token inside a 200, written with \uXXXX escapes
    # so that it is not found in the raw bytes: the decoded answer must not hold it either.
    body = json.dumps(etablissement_body(SIRET))
    escaped = token.replace(escape, f"\\u{ord(escape):04x}")
    assert escaped != token
    body = body.replace('"DOUBLE DE TEST"', f'"{escaped}"')
    double.queue(Reply(body=body.encode()))
    answer = client.etablissement_diffusible(SIRET, object_="test")
    assert token not in json.dumps(answer.data)
    assert "***" in json.dumps(answer.data)


@pytest.fixture
def tls_server(tmp_path):
    """An HTTPS API double with a self-signed certificate for 127.0.0.1 (made by openssl)."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
        + ["-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1"]
        + ["-addext", "subjectAltName=IP:127.0.0.1"],
        check=True,
        capture_output=True,
    )
    body = json.dumps(etablissement_body(SIRET)).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's naming
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"https://127.0.0.1:{server.server_port}", cert
    finally:
        server.shutdown()
        server.server_close()


def test_tls_certificates_are_verified_and_an_environment_ca_bundle_is_honoured(
    tls_server, monkeypatch, token
):
    url, cert = tls_server
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    unknown = ApiEntrepriseClient(url, token, RECIPIENT, "Aides", timeout=2)
    with pytest.raises(errors.Unreachable) as caught:
        unknown.etablissement_diffusible(SIRET, object_="test")
    assert "TLS" in str(caught.value.admin_detail)
    # An authority behind a TLS-inspecting proxy names its CA bundle in the environment:
    # a file, or a hashed directory like /etc/ssl/certs.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))
    trusted = ApiEntrepriseClient(url, token, RECIPIENT, "Aides", timeout=2)
    assert trusted.etablissement_diffusible(SIRET, object_="test").status == 200
    directory = cert.parent / "ca"
    directory.mkdir()
    (directory / "test-ca.pem").write_bytes(cert.read_bytes())
    subprocess.run(["openssl", "rehash", str(directory)], check=True, capture_output=True)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(directory))
    trusted_dir = ApiEntrepriseClient(url, token, RECIPIENT, "Aides", timeout=2)
    assert trusted_dir.etablissement_diffusible(SIRET, object_="test").status == 200


def test_a_token_outside_the_jwt_alphabet_is_scrubbed_even_behind_a_slash_escape(double):
    token = "legacy/token-with-a-slash-0123456789"
    odd = ApiEntrepriseClient(double.url, token, RECIPIENT, "Aides", timeout=TIMEOUT)
    body = json.dumps(etablissement_body(SIRET), ensure_ascii=False).replace(
        '"DOUBLE DE TEST"', '"' + token.replace("/", "\\/") + '"'
    )
    assert "\\u" not in body
    double.queue(Reply(body=body.encode()))
    answer = odd.etablissement_diffusible(SIRET, object_="test")
    assert token not in json.dumps(answer.data)
