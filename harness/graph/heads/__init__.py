"""Heads: turn [B, T, D] features into task outputs."""
