"""Micro-graphs: units, stems, heads, the graph built from a genome."""
