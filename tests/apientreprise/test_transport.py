"""The HTTP transport (one requests.Session) and the client's generic `call`: an in-process
handler answers without a socket, slow answers time out like a network read, cookies are
never kept, a route is filled with a checked target."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

import pytest
import requests
import urllib3

from portail.apientreprise import errors
from portail.apientreprise.catalogue import (
    ROUTE_ASSOCIATION_OPEN_DATA,
    ROUTE_ETABLISSEMENT,
    ROUTE_ETABLISSEMENT_DIFFUSIBLE,
    ROUTE_PRIVILEGES,
)
from portail.apientreprise.client import ApiEntrepriseClient
from portail.apientreprise.transport import HttpTransport
from portail.core.api_urls import SANDBOX_URL
from portail.core.tokens import mint_token
from tests.fault_double import Reply, etablissement_body

SIRET = "12345678900011"
RECIPIENT = "21999001700010"


@dataclass
class Answer:
    """What an in-process handler answers (the shape of the sandbox's SandboxAnswer)."""

    status: int = 200
    headers: dict = field(default_factory=lambda: {"Content-Type": "application/json"})
    body: bytes = json.dumps(etablissement_body(SIRET)).encode()
    delay: float = 0.0


class Handler:
    """Records each request and gives back a fixed answer."""

    def __init__(self, answer: Answer | None = None):
        self.answer = answer or Answer()
        self.seen: list[tuple[str, str, dict, dict]] = []

    def __call__(self, method, path, query, headers):
        self.seen.append((method, path, query, headers))
        return self.answer


@pytest.fixture
def no_socket(monkeypatch):
    """Any TCP connection attempt fails the test."""

    def connect(*args, **kwargs):
        pytest.fail("a socket was opened")

    monkeypatch.setattr(urllib3.util.connection, "create_connection", connect)


def test_the_in_process_handler_answers_a_real_response_without_a_socket(no_socket):
    handler = Handler(Answer(headers={"Content-Type": "application/json", "X-Request-ID": "r-1"}))
    transport = HttpTransport(pool_size=2, sandbox_handler=handler)
    response = transport.get(
        SANDBOX_URL, "/v4/x/123?recipient=1&object=a%20b", {"Authorization": "Bearer t"}, 1.0
    )
    assert isinstance(response, requests.Response)
    assert isinstance(response.raw, urllib3.BaseHTTPResponse)
    assert response.status_code == 200 and response.raw.status == 200
    assert response.headers["x-request-id"] == "r-1"
    assert json.loads(response.raw.read1(1 << 20, decode_content=True))["data"]["siret"] == SIRET
    method, path, query, headers = handler.seen[0]
    assert (method, path, query) == ("GET", "/v4/x/123", {"recipient": "1", "object": "a b"})
    assert headers["Authorization"] == "Bearer t"


def test_a_slow_in_process_answer_times_out_after_the_timeout_not_its_delay():
    transport = HttpTransport(sandbox_handler=Handler(Answer(delay=8.0)))
    started = time.monotonic()
    with pytest.raises(requests.exceptions.ReadTimeout):
        transport.get(SANDBOX_URL, "/privileges", {}, 0.2)
    assert 0.2 <= time.monotonic() - started < 2


def test_an_in_process_delay_shorter_than_the_timeout_is_waited():
    transport = HttpTransport(sandbox_handler=Handler(Answer(delay=0.2)))
    started = time.monotonic()
    assert transport.get(SANDBOX_URL, "/privileges", {}, 2.0).status_code == 200
    assert time.monotonic() - started >= 0.2


def test_the_client_reads_an_in_process_answer_like_a_network_one(no_socket):
    token = mint_token(["open_data"])
    handler = Handler(Answer(status=429, headers={"Retry-After": "12"}, body=b""))
    transport = HttpTransport(sandbox_handler=handler)
    client = ApiEntrepriseClient(SANDBOX_URL, token, RECIPIENT, "ctx", transport=transport)
    with pytest.raises(errors.RateLimited) as caught:
        client.etablissement_diffusible(SIRET, object_="test")
    assert caught.value.retry_after == 12
    handler.answer = Answer()
    assert client.etablissement_diffusible(SIRET, object_="test").data["data"]["siret"] == SIRET
    assert handler.seen[-1][3]["Authorization"] == f"Bearer {token}"


def test_the_client_maps_a_slow_in_process_answer_to_a_timeout():
    transport = HttpTransport(sandbox_handler=Handler(Answer(delay=8.0)))
    client = ApiEntrepriseClient(SANDBOX_URL, mint_token([]), RECIPIENT, "ctx", transport=transport)
    client.timeout = 0.2
    started = time.monotonic()
    with pytest.raises(errors.Timeout):
        client.etablissement_diffusible(SIRET, object_="test")
    assert time.monotonic() - started < 2


def test_only_the_sandbox_host_is_answered_in_process():
    handler = Handler()
    transport = HttpTransport(sandbox_handler=handler)
    # A longer name that starts like the sandbox's goes to the network (here: refused at once,
    # the .invalid name never resolves), never to the handler.
    with pytest.raises(requests.exceptions.ConnectionError):
        transport.get(SANDBOX_URL + ".example", "/privileges", {}, 0.5)
    assert handler.seen == []
    # Without a handler, the sandbox URL is not answered at all: nothing leaves either.
    with pytest.raises(requests.exceptions.ConnectionError):
        HttpTransport().get(SANDBOX_URL, "/privileges", {}, 0.5)


def test_cookies_set_by_the_api_are_never_sent_back(double):
    double.queue(Reply(body=etablissement_body(SIRET), headers={"Set-Cookie": "session=abc"}))
    client = ApiEntrepriseClient(double.url, mint_token([]), RECIPIENT, "ctx", timeout=1)
    client.etablissement_diffusible(SIRET, object_="one")
    client.etablissement_diffusible(SIRET, object_="two")
    assert double.count() == 2
    assert all("cookie" not in {name.lower() for name in seen.headers} for seen in double.seen)


def test_keep_alive_connections_are_reused(double):
    client = ApiEntrepriseClient(double.url, mint_token([]), RECIPIENT, "ctx", timeout=1)
    for _ in range(3):
        client.etablissement_diffusible(SIRET, object_="test")
    pools = client.transport._session.get_adapter(double.url).poolmanager.pools
    assert len(pools) == 1
    assert pools[next(iter(pools.keys()))].num_connections == 1


# -- the client's generic call ------------------------------------------------------------


@pytest.fixture
def client(double):
    return ApiEntrepriseClient(double.url, mint_token(["open_data"]), RECIPIENT, "Aides", timeout=1)


@pytest.mark.parametrize(
    ("route", "target"),
    [
        (ROUTE_ETABLISSEMENT_DIFFUSIBLE, SIRET),
        (ROUTE_ETABLISSEMENT, SIRET),
        (ROUTE_ASSOCIATION_OPEN_DATA, "W751000001"),
    ],
)
def test_call_fills_the_route_and_sends_the_mandatory_parameters(client, double, route, target):
    answer = client.call(route, target, object_="Demande AIDE-7")
    assert answer.status == 200 and isinstance(answer.data["data"], dict)
    seen = double.seen[-1]
    assert seen.path == route.split("{")[0] + target
    assert seen.query == {"recipient": RECIPIENT, "context": "Aides", "object": "Demande AIDE-7"}


def test_call_on_privileges_sends_no_parameters_and_needs_no_data_envelope(client, double):
    answer = client.call(ROUTE_PRIVILEGES, None, object_=None)
    assert answer.data["privileges"] == ["open_data"]
    assert double.seen[-1].path == "/privileges"
    assert double.seen[-1].query == {}


def test_call_without_a_data_envelope_on_a_data_route_is_a_bad_answer(client, double):
    double.queue(Reply(body={"privileges": []}))
    with pytest.raises(errors.BadAnswer):
        client.call(ROUTE_ETABLISSEMENT_DIFFUSIBLE, SIRET, object_="test")


@pytest.mark.parametrize(
    "target", ["", "../privileges", "123 456", "12345678900011?x=1", "1234%2F", "é12", "a/b"]
)
def test_call_refuses_a_target_that_is_not_letters_and_digits_before_sending(
    client, double, target
):
    with pytest.raises(errors.BadParameter):
        client.call(ROUTE_ETABLISSEMENT_DIFFUSIBLE, target, object_="test")
    with pytest.raises(errors.BadParameter):
        client.etablissement_diffusible(target, object_="test")
    assert double.count() == 0


def test_call_refuses_a_route_and_target_that_do_not_match(client, double):
    with pytest.raises(ValueError, match="do not match"):
        client.call(ROUTE_ETABLISSEMENT, None, object_="test")
    with pytest.raises(ValueError, match="do not match"):
        client.call(ROUTE_PRIVILEGES, SIRET, object_=None)
    assert double.count() == 0
