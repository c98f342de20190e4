"""Runtime settings (the admin page) and filed deposits."""


def up(db):
    """Create settings and deposits."""
    db["settings"].create(
        {"key": str, "value": str, "updated_at": str, "updated_by": str},
        pk="key",
    )
    db["deposits"].create(
        {
            "id": int,
            "ref": str,  # human and unguessable, e.g. AIDE-2026-7KQM-3XPT-9ZDF
            "created_at": str,
            "siret": str,
            "raison_sociale": str,
            "intitule_projet": str,
            "montant_demande_cents": int,
            "email": str,
            "values_json": str,  # every filed value, as filed
            "snapshot_json": str,  # public API answers used for the prefill, or null
            "prefilled_json": str,  # field -> value the API proposed
            "changed_fields_json": str,  # fields prefilled then changed by the applicant
        },
        pk="id",
        not_null={"ref", "created_at", "values_json"},
    )
    db["deposits"].create_index(["ref"], unique=True)
    db["deposits"].create_index(["created_at"])
