"""Learning units, one per file, registered by name through entry points."""
