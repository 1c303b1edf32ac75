"""Serve a profile's champion behind an OpenAI-compatible HTTP API (stdlib only)."""
