"""The genome: plain, versioned JSON data describing a micro-graph (never imports torch)."""

from harness.genome.io import canonical_json, content_hash, dumps, load_genome, save_genome
from harness.genome.migrate import MIGRATIONS, migrate
from harness.genome.schema import (
    DEFAULT_TRAIN,
    FAMILIES,
    FORMAT,
    INPUT,
    MERGE_OPS,
    VERSION,
    Genome,
    Node,
    add_node,
    consumers,
    get_node,
    live_nodes,
    make_node,
    new_genome,
    node_map,
    rewire,
    topo_order,
)
from harness.genome.validate import known_names, merge_ops, validate

__all__ = [
    "DEFAULT_TRAIN",
    "FAMILIES",
    "FORMAT",
    "INPUT",
    "MERGE_OPS",
    "MIGRATIONS",
    "VERSION",
    "Genome",
    "Node",
    "add_node",
    "canonical_json",
    "consumers",
    "content_hash",
    "dumps",
    "get_node",
    "known_names",
    "live_nodes",
    "load_genome",
    "make_node",
    "merge_ops",
    "migrate",
    "new_genome",
    "node_map",
    "rewire",
    "save_genome",
    "topo_order",
    "validate",
]
