"""`insitu bench mnist|fsdd`: image and audio benchmarks (registered under `insitu.benches`)."""
