"""The package version, in a module of its own: manifests and fingerprints read it without importing
the package's ``__init__`` (which lazily exposes the whole API)."""

__version__ = "0.2.0"
