"""One client (an IP address; IPv6 counted per /64) may not spend the rate budget that every
applicant shares: past its share, its lookups are refused at once with a French message,
no call leaves, other clients keep their prefill, and the refusal is journaled."""

from __future__ import annotations

import html

from stdnum import luhn

from portail.apientreprise import budget, circuit
from portail.apientreprise.policy import GatewayPolicy
from portail.apientreprise.refusals import RefusalNotes
from portail.core.netaddr import NETWORK_SHARE_FACTOR, ClientKeys, client_keys
from portail.storage import database as store
from portail.storage import journal
from tests.api_helpers import lookup as api_lookup
from tests.api_helpers import portal_on
from tests.applicant.htmx_helpers import csrf_token

ETAB = "/v4/insee/sirene/etablissements/diffusibles/"
HTMX = {"HX-Request": "true", "HX-Target": "tiers-block"}
SHARE = 3
POLICY = GatewayPolicy(
    cache_seconds=0, negative_cache_seconds=0, budget_max_wait=0.1, budget_per_client=SHARE
)


def valid_siret(number: int) -> str:
    siren = f"{66_000_000 + number:08d}"
    siren += luhn.calc_check_digit(siren)
    body = siren + "0001"
    return body + luhn.calc_check_digit(body)


def lookup(db, conf, number, client, policy=POLICY):
    return api_lookup(db, conf, valid_siret(number), object_="test", policy=policy, client=client)


# -- the budget itself ---------------------------------------------------------------------


def test_a_client_past_its_share_is_refused_while_others_still_pass(database):
    now = 1_800_000_000.0
    for offset in range(SHARE):
        admission = budget.try_acquire(
            database, per_minute=100, client="ip:a", per_client=SHARE, now=now + offset
        )
        assert admission.granted
    refused = budget.try_acquire(
        database, per_minute=100, client="ip:a", per_client=SHARE, now=now + 10
    )
    assert not refused.granted and refused.reason == "client"
    assert refused.retry_at == now + budget.WINDOW_SECONDS  # when its oldest call ages out
    other = budget.try_acquire(
        database, per_minute=100, client="ip:b", per_client=SHARE, now=now + 10
    )
    assert other.granted
    # The share frees itself as the window slides.
    later = budget.try_acquire(
        database, per_minute=100, client="ip:a", per_client=SHARE, now=now + 61
    )
    assert later.granted


def test_every_client_still_counts_against_the_global_budget(database):
    now = 1_800_000_000.0
    for index in range(4):
        assert budget.try_acquire(
            database, per_minute=4, client=f"ip:{index}", per_client=SHARE, now=now
        ).granted
    refused = budget.try_acquire(database, per_minute=4, client="ip:new", per_client=SHARE, now=now)
    assert not refused.granted and refused.reason == "budget"


# -- the lookup service ----------------------------------------------------------------------


def test_lookups_past_the_share_send_nothing_and_say_so(database, conf, double):
    for number in range(SHARE):
        assert lookup(database, conf, number, "203.0.113.7").level == "ok"
    assert double.count(ETAB) == SHARE

    outcome = lookup(database, conf, 99, "203.0.113.7")
    assert outcome.tiers is None and outcome.error_kind == "client_share_spent"
    assert "de nombreuses recherches en peu de temps" in outcome.message
    assert "compléter les champs vous-même" in outcome.message
    assert double.count(ETAB) == SHARE  # no call left

    row = list(database.query("SELECT * FROM api_journal ORDER BY id DESC LIMIT 1"))[0]
    assert row["source"] == journal.SOURCE_REFUSED
    assert row["kind"] == "client_share_spent"
    assert row["target"] == valid_siret(99) and row["status"] is None

    # Another applicant, elsewhere, is not affected.
    assert lookup(database, conf, 100, "198.51.100.20").level == "ok"
    assert double.count(ETAB) == SHARE + 1


def test_a_flood_of_refusals_leaves_one_journal_row_and_one_log_line(
    database, conf, double, caplog
):
    for number in range(SHARE):
        lookup(database, conf, number, "203.0.113.9")
    with caplog.at_level("WARNING", logger="portail.apientreprise.gateway"):
        for number in range(50):
            assert lookup(database, conf, 500 + number, "203.0.113.9").error_kind == (
                "client_share_spent"
            )
    refused = list(database.query("SELECT * FROM api_journal WHERE source = 'refused'"))
    assert len(refused) == 1
    warnings = [r for r in caplog.records if "non envoyé" in r.getMessage()]
    assert len(warnings) == 1 and "203.0.113.9" in warnings[0].getMessage()
    assert double.count(ETAB) == SHARE


def test_ipv6_addresses_of_one_subscriber_share_one_quota(database, conf, double):
    for number in range(SHARE):
        client = f"2001:db8:1:2::{number + 1:x}"
        assert lookup(database, conf, number, client).level == "ok"
    same_block = lookup(database, conf, 50, "2001:db8:1:2:ffff::1")
    assert same_block.error_kind == "client_share_spent"
    other_block = lookup(database, conf, 51, "2001:db8:1:3::1")
    assert other_block.level == "ok"


def test_hopping_between_the_64s_of_one_48_cannot_spend_the_budget(database, conf, double):
    # One subscriber holds a whole /48 (65,536 /64s): past three shares, its network waits.
    cap = NETWORK_SHARE_FACTOR * SHARE
    served = 0
    for block in range(cap + 3):
        client = f"2001:db8:aa:{block:x}::1"  # a new /64 each time, the same /48
        served += lookup(database, conf, 200 + block, client).level == "ok"
    assert served == cap
    assert double.count(ETAB) == cap
    elsewhere = lookup(database, conf, 300, "2001:db8:bb::1")  # another subscriber
    assert elsewhere.level == "ok"


def test_refused_by_its_network_an_applicant_is_told_so_and_noted_once(
    database, conf, double, caplog
):
    cap = NETWORK_SHARE_FACTOR * SHARE
    for block in range(cap):
        lookup(database, conf, 400 + block, f"2001:db8:cc:{block:x}::1")
    with caplog.at_level("WARNING", logger="portail.apientreprise.gateway"):
        outcomes = [
            lookup(database, conf, 600 + block, f"2001:db8:cc:{0x100 + block:x}::1")
            for block in range(40)  # forty fresh /64s of the same /48
        ]
    assert {outcome.error_kind for outcome in outcomes} == {"network_share_spent"}
    assert "depuis votre réseau" in outcomes[0].message
    refused = list(database.query("SELECT * FROM api_journal WHERE source = 'refused'"))
    assert len(refused) == 1
    assert len([r for r in caplog.records if "non envoyé" in r.getMessage()]) == 1


def test_refusal_notes_forget_the_oldest_keys_past_their_cap():
    notes = RefusalNotes()
    notes.MAX_KEYS = 3
    for index in range(10):
        assert notes.should_note((f"ip:{index}", "client_share_spent")) == 0
    assert len(notes._noted) == 3
    assert notes.should_note(("ip:9", "client_share_spent")) is None  # still remembered


def test_client_keys_group_ipv6_by_64_and_48_and_leave_ipv4_alone():
    keys = client_keys("2001:db8:aa:1:2:3:4:5")
    assert keys == ClientKeys("ip:2001:db8:aa:1::/64", "net:2001:db8:aa::/48")
    assert client_keys("203.0.113.7") == ClientKeys("ip:203.0.113.7")
    assert client_keys("::ffff:203.0.113.7") == ClientKeys("ip:203.0.113.7")
    assert client_keys("not an address") == ClientKeys("ip:unknown")


def test_a_zero_share_turns_the_limit_off(database, conf, double):
    policy = GatewayPolicy(cache_seconds=0, negative_cache_seconds=0, budget_per_client=0)
    for number in range(SHARE + 2):
        assert lookup(database, conf, number, "203.0.113.7", policy=policy).level == "ok"


def test_a_refused_call_on_an_open_circuit_is_journaled(database, conf, double):
    policy = GatewayPolicy(circuit_threshold=1, circuit_cooldown=60, timeout=0.5)
    with store.immediate(database):
        circuit.record_failure(database, "insee", policy.circuit, error="panne simulée")
    outcome = lookup(database, conf, 1, "203.0.113.7", policy=policy)
    assert outcome.error_kind == "circuit_open" and double.count(ETAB) == 0
    row = list(database.query("SELECT * FROM api_journal ORDER BY id DESC LIMIT 1"))[0]
    assert row["source"] == journal.SOURCE_REFUSED and row["kind"] == "circuit_open"


# -- through the applicant's route -------------------------------------------------------


def test_route_uses_the_configured_share_and_keeps_typed_values(tmp_path, double):
    app = portal_on(
        tmp_path, double.url, RATE_BUDGET_PER_CLIENT_PER_MINUTE=2, LOOKUP_CACHE_SECONDS=0
    )
    client = app.test_client()
    busy = {"REMOTE_ADDR": "192.0.2.44"}
    for number in range(2):
        response = client.get(
            f"/demande/tiers?siret={valid_siret(number)}", headers=HTMX, environ_base=busy
        )
        assert "DOUBLE DE TEST" in response.get_data(as_text=True)
    # The page's htmx posts the lookup with its CSRF header (issue 10): typed values travel
    # in the body, never in a URL.
    token = csrf_token(client)
    response = client.post(
        "/demande/tiers",
        data={"siret": valid_siret(7), "commune": "Rodez", "raison_sociale": "Mon club"},
        headers={**HTMX, "X-CSRFToken": token},
        environ_base=busy,
    )
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 200
    assert "de nombreuses recherches en peu de temps" in page
    assert 'value="Rodez"' in page and 'value="Mon club"' in page
    assert double.count(ETAB) == 2
    calm = client.get(
        f"/demande/tiers?siret={valid_siret(8)}",
        headers=HTMX,
        environ_base={"REMOTE_ADDR": "192.0.2.45"},
    )
    assert "DOUBLE DE TEST" in calm.get_data(as_text=True)
