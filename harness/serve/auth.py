"""API-key lookup and bind checks for `insitu serve` (keys are never logged or stored).

A key is looked up by NAME: the environment variable NAME first, then the entry NAME of the
keys file (`harness.paths.keys_file()`, a JSON object of names to values, mode 0600, written by
`insitu keys set NAME`).
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import os

from harness.errors import ServeError
from harness.paths import keys_file


def read_key(name: str) -> str | None:
    """Return the key called `name` from the environment or the keys file, or None."""
    value = os.environ.get(name)
    if value:
        return value
    path = keys_file()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    found = data.get(name) if isinstance(data, dict) else None
    return found if isinstance(found, str) and found else None


def is_loopback(host: str) -> bool:
    """Return True if `host` is a loopback name or address."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def api_key_for(host: str, key_name: str | None) -> str | None:
    """Return the API key the server must require, refusing an open non-loopback bind."""
    if key_name is None:
        if not is_loopback(host):
            raise ServeError(
                f"refusing to serve on {host} without an API key: anyone on the network "
                "could talk to (and rate) your model",
                "pass --api-key NAME (set the key with `insitu keys set NAME`), "
                "or bind to 127.0.0.1",
            )
        return None
    key = read_key(key_name)
    if not key:
        raise ServeError(f"the API key {key_name} is not set",
                         f"set it with `insitu keys set {key_name}` or export {key_name}=...")
    return key


def authorised(header: str | None, key: str | None) -> bool:
    """Return True if an Authorization header carries the key (always True with no key)."""
    if key is None:
        return True
    return hmac.compare_digest((header or "").encode(), f"Bearer {key}".encode())
