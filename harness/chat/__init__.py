"""Headless chat with a profile's micro-model: sessions, history, `insitu ask` and `insitu rate`."""
