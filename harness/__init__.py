"""insitu's core: value types, genome, units, training, evolution, store, CLI."""

__version__ = "0.1.0"
