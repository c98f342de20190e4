"""The lookup service against a loopback double: every fault gives its French message and
never an exception; cache, single-flight, circuit breaker and budget keep calls down."""

from __future__ import annotations

import logging
import threading
import time

import pytest

from portail.apientreprise import budget, cache, sandbox
from portail.apientreprise.catalogue import ROUTE_ETABLISSEMENT_DIFFUSIBLE
from portail.apientreprise.client import ApiEntrepriseClient
from portail.apientreprise.errors import BudgetSpent, RateLimited
from portail.apientreprise.gateway import Gateway
from portail.apientreprise.policy import GatewayPolicy
from portail.core.api_urls import SANDBOX_URL
from portail.core.settings_rules import Settings
from portail.core.tokens import mint_token
from portail.storage import database as store
from tests.api_helpers import check_privileges, journal_row, lookup
from tests.fault_double import (
    FaultDouble,
    Reply,
    association_body,
    error_body,
    etablissement_body,
    refused_url,
)

RECIPIENT = "21999001700010"
SIRET = "12345678900011"
ETAB = "/v4/insee/sirene/etablissements/diffusibles/"
ASSO = "/v4/djepva/api-association/associations/open_data/"
POLICY = GatewayPolicy(timeout=0.5, budget_max_wait=0.2, circuit_threshold=3, circuit_cooldown=0.5)
UNAVAILABLE = "temporairement indisponible"
HAND = "les champs vous-même"


def run(db, conf, siret=SIRET, policy=POLICY, **kwargs):
    kwargs.setdefault("object_", "Demande test")
    return lookup(db, conf, siret, policy=policy, **kwargs)


def rows(db):
    return list(db.query("SELECT * FROM api_journal ORDER BY id"))


def test_found_company_is_prefilled_and_journaled(database, conf, double):
    outcome = run(database, conf, actor="anonyme")
    assert outcome.level == "ok"
    assert outcome.message == (
        "Informations publiques trouvées pour «\u202fDOUBLE DE TEST\u202f». "
        "Vérifiez-les\u202f: tous les champs restent modifiables."
    )
    assert outcome.tiers.siret == SIRET and outcome.tiers.commune == "PARIS"
    assert outcome.snapshot["etablissement"]["data"]["siret"] == SIRET
    assert outcome.snapshot["association"] is None
    assert not outcome.from_cache
    [row] = rows(database)
    assert row["route"] == "/v4/insee/sirene/etablissements/diffusibles/{siret}"
    assert row["target"] == SIRET and row["status"] == 200 and row["source"] == "api"
    assert row["object"] == "Demande test" and row["actor"] == "anonyme"
    assert row["request_id"] and row["duration_ms"] >= 0


def test_cache_hit_costs_no_call_and_no_budget(database, conf, double):
    run(database, conf)
    outcome = run(database, conf, actor="Camille")
    assert outcome.from_cache and outcome.tiers.siret == SIRET
    assert double.count() == 1
    assert database.execute("SELECT count(*) FROM rate_budget_calls").fetchone()[0] == 1
    hit = rows(database)[-1]
    assert hit["source"] == "cache" and hit["actor"] == "Camille" and hit["status"] == 200


def test_cache_can_be_switched_off(database, conf, double):
    policy = GatewayPolicy(timeout=0.5, cache_seconds=0)
    run(database, conf, policy=policy)
    assert not run(database, conf, policy=policy).from_cache
    assert double.count() == 2


def test_cached_answers_never_cross_api_urls(database, conf, double):
    run(database, conf)
    with FaultDouble() as other:
        other_conf = Settings(**{**conf.__dict__, "api_url": other.url})
        assert not run(database, other_conf).from_cache
        assert other.count() == 1


def test_association_gets_rna_and_purpose(database, conf, double):
    double.on(ETAB, Reply(body=etablissement_body(SIRET, "LES JARDINS", legal_form="9220")))
    outcome = run(database, conf)
    assert outcome.level == "ok"
    assert outcome.tiers.rna == "W751000001" and outcome.tiers.objet_association == "Jardins"
    assert outcome.snapshot["association"]["data"]["rna"] == "W751000001"
    assert double.count(ASSO + SIRET[:9]) == 1
    assert [row["target"] for row in rows(database)] == [SIRET, SIRET[:9]]


def test_association_failure_keeps_the_company_data(database, conf, double):
    double.on(ETAB, Reply(body=etablissement_body(SIRET, "LES JARDINS", legal_form="9220")))
    double.on(ASSO, Reply(status=502, body=error_body("01999", "Erreur du fournisseur")))
    outcome = run(database, conf)
    assert outcome.tiers.raison_sociale == "LES JARDINS"
    assert outcome.level == "warning"
    assert "RNA" in outcome.message and "complétez-les vous-même" in outcome.message


@pytest.mark.parametrize(
    ("reply", "kind", "level", "words"),
    [
        (
            Reply(404, error_body("01003", "Entité non trouvée")),
            "not_found",
            "warning",
            "Aucune donnée publique n'est disponible pour ce SIRET. Vérifiez le numéro ou "
            "complétez les champs vous-même.",
        ),
        (Reply(451, b""), "not_public", "warning", "ne peuvent pas être affichées"),
        (
            Reply(401, error_body("00101", "Interdit")),
            "token_refused",
            "error",
            "Le pré-remplissage est momentanément indisponible. Vous pouvez compléter les "
            "champs vous-même.",
        ),
        (
            Reply(403, error_body("00100", "Privilèges insuffisants")),
            "scope_missing",
            "error",
            "momentanément indisponible",
        ),
        (
            Reply(422, error_body("00211", "Le paramètre recipient est identique")),
            "recipient_is_target",
            "warning",
            "appartient à la collectivité",
        ),
        (Reply(422, error_body("00203", "Entité non traitable")), "bad_parameter", "error", HAND),
        (Reply(409, error_body("00015", "Conflit")), "duplicate", "error", "déjà en cours"),
        (Reply(429, b"", headers={"Retry-After": "30"}), "rate_limited", "error", "saturé"),
        (Reply(502, error_body("01999", "Erreur")), "unavailable", "error", UNAVAILABLE),
        (Reply(503, b""), "unavailable", "error", UNAVAILABLE),
        (Reply(504, error_body("01002", "Hors délai")), "unavailable", "error", UNAVAILABLE),
        (Reply(hang=True), "timeout", "error", UNAVAILABLE),
        (Reply(trickle=0.05), "timeout", "error", UNAVAILABLE),
        (Reply(body="{oops"), "bad_answer", "error", UNAVAILABLE),
        (Reply(body="<html></html>", content_type="text/html"), "bad_answer", "error", UNAVAILABLE),
        (Reply(body=b"{}", content_length=10**9), "bad_answer", "error", UNAVAILABLE),
        (Reply(body={"data": {"siret": "x"}}), "bad_answer", "error", UNAVAILABLE),
        (Reply(status=301, body=b"", headers={"Location": "/"}), "bad_answer", "error", HAND),
        (Reply(drop=True), "unreachable", "error", UNAVAILABLE),
    ],
)
def test_every_fault_gives_its_message_and_no_exception(
    database, conf, double, reply, kind, level, words
):
    double.queue(reply)
    started = time.monotonic()
    outcome = run(database, conf)
    assert time.monotonic() - started < POLICY.timeout + 0.8
    assert outcome.tiers is None and outcome.snapshot is None
    assert outcome.error_kind == kind
    assert outcome.level == level
    assert words in outcome.message
    assert rows(database)[-1]["kind"] == kind


def test_connection_refused_gives_the_unavailable_message(database, conf):
    refused = Settings(**{**conf.__dict__, "api_url": refused_url()})
    outcome = run(database, refused)
    assert outcome.error_kind == "unreachable" and UNAVAILABLE in outcome.message
    assert rows(database)[-1]["status"] is None


def test_not_found_is_cached_briefly(database, conf, double):
    double.on(ETAB, Reply(404, error_body("01003", "Entité non trouvée")))
    run(database, conf)
    again = run(database, conf)
    assert again.error_kind == "not_found" and again.from_cache
    assert double.count() == 1
    no_negative = GatewayPolicy(timeout=0.5, negative_cache_seconds=0)
    run(database, conf, "98765432100019", policy=no_negative)
    run(database, conf, "98765432100019", policy=no_negative)
    assert double.count() == 3


def test_failures_are_not_cached(database, conf, double):
    double.queue(Reply(502, b""))
    assert run(database, conf).error_kind == "unavailable"
    assert run(database, conf).level == "ok"
    assert double.count() == 2


def test_after_a_429_no_call_leaves_until_retry_after(database, conf, double):
    double.queue(Reply(429, b"", headers={"Retry-After": "1"}))
    assert run(database, conf).error_kind == "rate_limited"
    started = time.monotonic()
    refused = run(database, conf, "98765432100019", policy=GatewayPolicy(budget_max_wait=0))
    assert time.monotonic() - started < 0.5
    assert refused.error_kind == "budget_spent" and "saturé" in refused.message
    assert "Réessayez dans environ 1 secondes" in refused.message
    assert double.count() == 1
    time.sleep(1.05)
    assert run(database, conf, "98765432100019").level == "ok"
    assert double.count() == 2


def test_budget_spent_answers_at_once_without_a_call(database, conf, double):
    policy = GatewayPolicy(timeout=0.5, budget_per_minute=2, budget_max_wait=1.0)
    assert run(database, conf, "11111111100011", policy=policy).level == "ok"
    assert run(database, conf, "22222222200022", policy=policy).level == "ok"
    started = time.monotonic()
    outcome = run(database, conf, "33333333300033", policy=policy)
    # The next slot frees in about a minute: no point sleeping for it.
    assert time.monotonic() - started < 0.3
    assert outcome.error_kind == "budget_spent"
    assert "momentanément saturé" in outcome.message and "environ 60 secondes" in outcome.message
    assert double.count() == 2


def test_rate_limit_headers_stop_calls_before_the_api_does(database, conf, double):
    reset = int(time.time()) + 30
    headers = {"RateLimit-Limit": "250", "RateLimit-Remaining": "3", "RateLimit-Reset": reset}
    double.queue(Reply(headers=headers))
    assert run(database, conf).level == "ok"
    outcome = run(database, conf, "98765432100019")
    assert outcome.error_kind == "budget_spent"
    assert double.count() == 1


def test_circuit_opens_after_repeated_failures_and_one_probe_closes_it(database, conf, double):
    double.queue(*[Reply(502, b"")] * 3)
    for number in range(3):
        assert run(database, conf, f"1000000000000{number}").error_kind == "unavailable"
    started = time.monotonic()
    outcome = run(database, conf, "20000000000000")
    assert time.monotonic() - started < 0.1
    assert outcome.error_kind == "circuit_open" and UNAVAILABLE in outcome.message
    assert double.count() == 3
    time.sleep(POLICY.circuit_cooldown + 0.05)
    assert run(database, conf, "20000000000000").level == "ok"  # the probe
    assert run(database, conf, "30000000000000").level == "ok"
    assert double.count() == 5


def test_failed_probe_reopens_the_circuit(database, conf, double):
    double.queue(*[Reply(504, b"")] * 4)
    for number in range(3):
        run(database, conf, f"1000000000000{number}")
    time.sleep(POLICY.circuit_cooldown + 0.05)
    assert run(database, conf, "20000000000000").error_kind == "unavailable"  # probe fails
    assert run(database, conf, "30000000000000").error_kind == "circuit_open"
    assert double.count() == 4


def test_hanging_api_does_not_hang_the_applicant(database, conf, double):
    double.on(ETAB, Reply(hang=True))
    started = time.monotonic()
    outcome = run(database, conf)
    assert time.monotonic() - started < POLICY.timeout + 0.5
    assert outcome.error_kind == "timeout" and UNAVAILABLE in outcome.message


def test_concurrent_identical_lookups_make_one_call(tmp_path, conf, double):
    path = tmp_path / "shared.sqlite3"
    store.migrate(store.connect(path))
    double.on(ETAB, Reply(delay=0.3))
    outcomes = []
    start = threading.Barrier(10)

    def applicant(number):
        db = store.connect(path)  # one connection per request, as in the app
        start.wait()
        outcomes.append(run(db, conf, actor=f"demandeur {number}"))
        db.conn.close()

    threads = [threading.Thread(target=applicant, args=(n,)) for n in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)
    assert double.count() == 1
    assert len(outcomes) == 10 and all(o.level == "ok" for o in outcomes)
    assert sum(o.joined for o in outcomes) == 9
    sources = [row["source"] for row in rows(store.connect(path))]
    assert sources.count("api") == 1 and sources.count("joined") == 9


def test_unexpected_failure_never_escapes(database, conf, monkeypatch, caplog):
    def broken(*_args, **_kwargs):
        raise RuntimeError("bug")

    monkeypatch.setattr(Gateway, "client_for", broken)
    outcome = run(database, conf)
    assert outcome.tiers is None and outcome.level == "error"
    assert UNAVAILABLE in outcome.message


def test_disabled_prefill_makes_no_call(database, conf, double):
    off = Settings(**{**conf.__dict__, "enabled": False})
    outcome = run(database, off)
    assert outcome.error_kind == "disabled" and HAND in outcome.message
    assert double.count() == 0


def test_token_never_in_journal_outcomes_or_logs(database, conf, double, caplog):
    caplog.set_level(logging.DEBUG)
    token = conf.token
    double.queue(
        Reply(401, error_body("00101", f"Bearer {token}")),
        Reply(502, error_body("01999", token)),
        Reply(hang=True),
        Reply(body=f"{{{token}"),
    )
    outcomes = [run(database, conf, f"1000000000000{n}") for n in range(5)]
    outcomes.append(run(database, conf, "10000000000004"))  # a cache hit
    dumped = repr(rows(database)) + repr(outcomes)
    assert token not in dumped
    assert all(token not in record.getMessage() for record in caplog.records)
    assert token not in repr(conf) and token not in repr(Gateway().client_for(conf))


def test_policy_reads_app_config_and_caps_the_budget():
    policy = GatewayPolicy.from_config(
        {"LOOKUP_CACHE_SECONDS": 60, "RATE_BUDGET_PER_MINUTE": 1000, "API_TIMEOUT_SECONDS": "2"}
    )
    assert policy.cache_seconds == 60 and policy.timeout == 2.0
    assert policy.budget_per_minute < 250


def test_journal_keeps_old_rows(database, conf, double):
    journal_row(database, object_="ancien", at="2023-01-02T03:04:05.000+00:00")
    for n in range(3):
        run(database, conf, f"1000000000000{n}")
    assert rows(database)[0]["object"] == "ancien"


def test_a_409_waits_for_the_other_worker_s_answer(database, conf, double, tmp_path):
    double.queue(Reply(409, error_body("00015", "Conflit")))
    key = cache.cache_key(conf.api_url, ROUTE_ETABLISSEMENT_DIFFUSIBLE, SIRET)

    def other_worker_finishes():
        time.sleep(0.15)
        cache.put(
            store.connect(tmp_path / "service.sqlite3"),  # the other worker's connection
            key,
            route=ROUTE_ETABLISSEMENT_DIFFUSIBLE,
            target=SIRET,
            status=200,
            kind=None,
            body=etablissement_body(SIRET, "AUTRE PROCESSUS"),
            request_id=None,
            ttl=60,
        )

    thread = threading.Thread(target=other_worker_finishes)
    thread.start()
    outcome = run(database, conf, policy=GatewayPolicy(timeout=0.5, budget_max_wait=1.0))
    thread.join()
    assert outcome.level == "ok" and outcome.tiers.raison_sociale == "AUTRE PROCESSUS"
    assert double.count() == 1


def test_association_provider_has_its_own_circuit(database, conf, double):
    double.on(ETAB, Reply(body=etablissement_body(SIRET, "LES JARDINS", legal_form="9220")))
    double.on(ASSO, Reply(504, b""))
    for _ in range(3):
        assert run(database, conf, policy=replace_cache_off()).level == "warning"
    assert double.count(ASSO) == 3
    outcome = run(database, conf, policy=replace_cache_off())
    assert outcome.tiers.raison_sociale == "LES JARDINS"  # INSEE still called and answered
    assert double.count(ASSO) == 3 and double.count(ETAB) == 4


def replace_cache_off():
    return GatewayPolicy(timeout=0.5, circuit_threshold=3, circuit_cooldown=30, cache_seconds=0)


def test_demo_settings_answer_from_the_in_process_sandbox(database):
    demo = Settings(
        True, sandbox.DEMO_RECIPIENT_SIRET, mint_token(list(sandbox.DEMO_SCOPES)), "c", SANDBOX_URL
    )
    found = run(database, demo, sandbox.PERSONAS[0].siret)
    assert found.level == "ok" and found.tiers.siret == sandbox.PERSONAS[0].siret
    unknown = next(p for p in sandbox.PERSONAS if "(404)" in p.label)
    assert run(database, demo, unknown.siret).error_kind == "not_found"


def test_check_privileges_goes_through_the_budget_and_the_journal(database, conf, double):
    assert check_privileges(database, conf, actor="alice", policy=POLICY) == ["open_data"]
    row = rows(database)[-1]
    assert row["route"] == "/privileges" and row["actor"] == "alice" and row["status"] == 200
    double.queue(Reply(429, b"", headers={"Retry-After": "30"}))
    with pytest.raises(RateLimited):
        check_privileges(database, conf, actor="alice", policy=POLICY)
    with pytest.raises(BudgetSpent):
        check_privileges(database, conf, actor="alice", policy=POLICY)
    assert run(database, conf).error_kind == "budget_spent"
    assert double.count() == 2


def test_a_connection_test_429_without_retry_after_still_blocks_every_worker(
    database, conf, double
):
    double.queue(Reply(429, b""))  # no Retry-After: the block lasts a default minute
    with pytest.raises(RateLimited):
        check_privileges(database, conf, actor="alice", policy=POLICY)
    blocked_until = budget.snapshot(database)["blocked_until"]
    assert blocked_until and blocked_until - time.time() > 50


def test_a_connection_test_aimed_at_another_host_leaves_our_budget_alone(database, conf, double):
    double.queue(Reply(429, b"", headers={"Retry-After": "30"}))
    with pytest.raises(RateLimited):
        check_privileges(database, conf, actor="alice", policy=POLICY, budgeted=False, record=False)
    assert budget.snapshot(database) == {
        "used_last_minute": 0,
        "blocked_until": None,
        "api_limit": None,
        "api_remaining": None,
    }
    assert rows(database) == []


def test_the_authority_s_own_siren_costs_no_call(database, conf, double):
    outcome = run(database, conf, RECIPIENT[:9] + "00028")
    assert outcome.error_kind == "recipient_is_target"
    assert "appartient à la collectivité" in outcome.message
    assert double.count() == 0


def test_an_unexpected_client_failure_is_still_journaled(database, conf, double, monkeypatch):
    def broken(self, route, target, *, object_):
        raise KeyError("surprise")

    monkeypatch.setattr(ApiEntrepriseClient, "call", broken)
    outcome = run(database, conf)
    assert outcome.error_kind == "bad_answer"
    assert rows(database)[-1]["kind"] == "bad_answer"


def test_a_transferred_establishment_answer_also_serves_its_successor(database, conf, double):
    successor = "12345678900029"
    body = etablissement_body(successor)
    body["meta"] = {"redirect_from_siret": SIRET}
    double.on(ETAB + SIRET, Reply(body=body))
    asked = run(database, conf, SIRET)
    assert asked.tiers.siret == successor and asked.tiers.redirected_from == SIRET
    # "Utiliser le SIRET …": the successor comes from the cache, as a direct answer.
    direct = run(database, conf, successor)
    assert direct.from_cache and direct.tiers.siret == successor
    assert direct.tiers.redirected_from == ""
    assert double.count(ETAB) == 1


def test_two_establishments_of_one_association_joined_keep_their_own_data(tmp_path, conf, double):
    # Two applicants of one association (one SIREN), two SIRETs, at the same moment: the
    # association call is joined, but each keeps its own établissement (review finding).
    path = tmp_path / "shared.sqlite3"
    store.migrate(store.connect(path))
    siren = "775672272"
    head, branch = f"{siren}00018", f"{siren}00026"
    for siret, name in ((head, "SIEGE"), (branch, "ANTENNE")):
        body = etablissement_body(siret, name, legal_form="9220")
        double.on(ETAB + siret, Reply(body=body))
    double.on(ASSO, Reply(body=association_body(siren), delay=0.4))
    outcomes = {}
    start = threading.Barrier(2)

    def applicant(siret):
        db = store.connect(path)
        start.wait()
        outcomes[siret] = run(db, conf, siret)
        db.conn.close()

    threads = [threading.Thread(target=applicant, args=(s,)) for s in (head, branch)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)
    assert double.count(ASSO) == 1  # joined: one upstream call
    assert sum(outcome.joined for outcome in outcomes.values()) == 1
    for siret, name in ((head, "SIEGE"), (branch, "ANTENNE")):
        assert outcomes[siret].tiers.siret == siret
        assert outcomes[siret].tiers.raison_sociale == name
        assert outcomes[siret].tiers.rna == "W751000001"
