"""Starter profile templates (TOML data, no logic)."""
