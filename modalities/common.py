"""Helpers shared by the modalities: reading a source (path or bytes) with clear errors."""

from __future__ import annotations

from pathlib import Path

from harness.errors import DataError


def source_name(source: Path | bytes | str) -> str:
    """Return how to name a source in messages: its path, or '(given as bytes)'."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return "(given as bytes)"
    return str(source)


def read_source(source: Path | bytes | str, max_bytes: int, what: str) -> bytes:
    """Return the bytes of a path or bytes source, refusing missing, unreadable or huge files."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    else:
        path = Path(source)
        if not path.exists():
            raise DataError(f"{path}: no such file", "check the path (drag the file in, or "
                            "use Tab to complete it)")
        if path.is_dir():
            raise DataError(f"{path} is a folder, not {what} file",
                            "give one file, or add a whole folder with `insitu data add`")
        try:
            size = path.stat().st_size
            if size > max_bytes:
                raise DataError(
                    f"{path} is {size / 2**20:.1f} MiB; insitu reads {what} files up to "
                    f"{max_bytes / 2**20:.0f} MiB",
                    "make it smaller (shorter, lower resolution) and try again",
                )
            data = path.read_bytes()
        except PermissionError as exc:
            raise DataError(f"{path} cannot be read: permission denied",
                            "check the file's permissions (chmod +r)") from exc
        except OSError as exc:
            raise DataError(f"{path} cannot be read: {exc.strerror or exc}",
                            "check that the file and its disk are reachable") from exc
    if len(data) > max_bytes:
        raise DataError(f"{source_name(source)} is over {max_bytes / 2**20:.0f} MiB of {what} data",
                        "make it smaller and try again")
    if not data:
        raise DataError(f"{source_name(source)} is empty (0 bytes)",
                        f"give a {what} file with content")
    return data
