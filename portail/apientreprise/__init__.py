"""apientreprise."""
