"""The API token encrypted at rest: a token an older version stored in plaintext is sealed
with the database's key (storage/token_key), then the file is rewritten (VACUUM_AFTER) so
that neither that plaintext nor any token replaced or erased before survives in free space.
"""

from portail.storage import settings

# migrate() rewrites the file (VACUUM) and truncates the WAL once this migration is applied.
VACUUM_AFTER = True


def up(db):
    """Seal a plaintext token, if any."""
    settings.seal_plaintext_token(db)
