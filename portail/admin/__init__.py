"""The admin area (/admin): dashboard, settings, deposits, journal, and the CLI."""
