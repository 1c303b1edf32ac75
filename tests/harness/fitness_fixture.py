"""Fitness functions a user might write; the fitness tests copy this file into a temp folder."""


def variety(graph):
    """Distinct unit kinds in the body, minus a size penalty: not differentiable."""
    return len({n["op"] for n in graph.genome["nodes"]}) - graph.num_parameters() / 100_000


def picky(graph):
    """Variety, but it hangs, raises or returns NaN on some graphs (the run must go on)."""
    ops = {n["op"] for n in graph.genome["nodes"]}
    if "attention" in ops:
        while True:
            pass
    if "lstm" in ops:
        raise RuntimeError("no lstm today")
    if "rwkv" in ops:
        return float("nan")
    return variety(graph)
