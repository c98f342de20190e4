"""The certified check stored with its deposit: a result, a failure beside it, a refresh."""

from __future__ import annotations

from decimal import Decimal

import pytest

from portail.storage import certified, deposits

BODY = {"data": {"siret": "99912340900016", "nom": "ÉCOLE"}, "meta": {}}


@pytest.fixture
def ref(database):
    return deposits.file_deposit(database, {"siret": "99912340900016"}, Decimal("1"), None).ref


def test_the_migration_creates_the_table(database):
    columns = {row[1] for row in database.execute("PRAGMA table_info(certified_checks)")}
    assert {"deposit_ref", "checked_at", "checked_by", "etablissement_json", "failed_at"} <= (
        columns
    )


def test_a_deposit_never_checked_has_no_check(database, ref):
    assert certified.get_check(database, ref) is None


def test_a_result_is_stored_with_its_agent_date_and_bodies(database, ref):
    certified.save_result(
        database,
        ref,
        siret="99912340900016",
        actor="alice",
        state="match",
        etablissement=BODY,
        association={"data": {"rna": "W1"}},
        notes=["note"],
        at="2026-03-01T10:00:00+00:00",
    )
    check = certified.get_check(database, ref)
    assert check.has_result and check.etablissement == BODY
    assert check.association == {"data": {"rna": "W1"}}
    assert (check.checked_by, check.checked_at, check.state) == (
        "alice",
        "2026-03-01T10:00:00+00:00",
        "match",
    )
    assert check.notes == ("note",) and check.failed_at is None


def test_a_failure_keeps_the_previous_result_and_a_success_clears_it(database, ref):
    certified.save_result(
        database, ref, siret="99912340900016", actor="alice", state="match", etablissement=BODY
    )
    certified.save_failure(
        database,
        ref,
        siret="99912340900016",
        actor="bob",
        kind="unavailable",
        title="Fournisseur de données indisponible",
        message="Panne de l'INSEE.",
    )
    check = certified.get_check(database, ref)
    assert check.etablissement == BODY and check.checked_by == "alice"
    assert check.failed_by == "bob" and check.failure_kind == "unavailable"
    assert check.failure_message == "Panne de l'INSEE."

    refreshed = {"data": {"siret": "99912340900016", "nom": "AUTRE"}}
    certified.save_result(
        database,
        ref,
        siret="99912340900016",
        actor="bob",
        state="differences",
        etablissement=refreshed,
    )
    check = certified.get_check(database, ref)
    assert check.etablissement == refreshed and check.association is None
    assert (check.checked_by, check.state, check.failed_at) == ("bob", "differences", None)
    assert database["certified_checks"].count == 1


def test_a_failure_before_any_result(database, ref):
    certified.save_failure(
        database, ref, siret="1", actor="alice", kind="settings", title="T", message="M"
    )
    check = certified.get_check(database, ref)
    assert not check.has_result and check.failure_title == "T"


def test_a_check_belongs_to_an_existing_deposit(database):
    with pytest.raises(Exception, match="FOREIGN KEY"):
        certified.save_failure(
            database, "AIDE-NONE", siret="1", actor="a", kind="k", title="t", message="m"
        )
