"""Stems: turn a modality's encoded input into [B, T, D] vectors."""
