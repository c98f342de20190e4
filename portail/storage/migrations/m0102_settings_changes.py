"""History of settings changes: who changed which setting, when (never the token's value)."""


def up(db):
    """Create settings_changes."""
    db["settings_changes"].create(
        {"id": int, "at": str, "actor": str, "key": str, "summary": str},
        pk="id",
        not_null={"at", "actor", "key"},
    )
    db["settings_changes"].create_index(["at"])
