"""Profile bundles: export a profile's champion as a verified zip, inspect it, import it anew.

See docs/bundle-format.md for the layout, manifest fields, versioning and verification rules.
"""

from harness.bundle.export import ExportResult, export_bundle, find_champion
from harness.bundle.format import FORMAT, VERSION, BundleError
from harness.bundle.inspect import inspect_bundle
from harness.bundle.install import import_bundle
from harness.bundle.verify import Bundle, read_bundle

__all__ = [
    "FORMAT",
    "VERSION",
    "Bundle",
    "BundleError",
    "ExportResult",
    "export_bundle",
    "find_champion",
    "import_bundle",
    "inspect_bundle",
    "read_bundle",
]
