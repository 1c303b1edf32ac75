"""The profile store: SQLite database, migrations, atomic checkpoint files."""
