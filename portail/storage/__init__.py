"""SQLite through sqlite-utils, no Flask: connections, migrations, one module per table family."""
