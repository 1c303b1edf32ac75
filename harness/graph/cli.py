"""`insitu graph ...`: look at micro-graphs (genomes, checkpoints, seed individuals)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from harness.cliutil import json_option, profile_option, table
from harness.errors import ConfigError, ProfileError
from harness.genome import Genome, content_hash, load_genome
from harness.profile import profile_flag

if TYPE_CHECKING:
    from harness.graph.build import Graph

# torch-heavy modules are imported inside the commands, so `insitu --help` stays fast.


@click.group()
def graph() -> None:
    """Show micro-graphs: genomes, checkpoints and seed individuals."""


def _args_text(args: dict[str, Any]) -> str:
    """Return op arguments as `k=v` pairs."""
    return " ".join(f"{k}={v}" for k, v in sorted(args.items())) or "-"


def _params(module: Any) -> int:
    return sum(p.numel() for p in module.parameters())


def _resolve(target: str | None, profile: str, family: str | None, params: int, seed: int) -> Graph:
    """Return the graph to show: a seed individual, a genome JSON file or a checkpoint."""
    import torch

    from harness.graph.build import Graph

    gen = torch.Generator().manual_seed(seed)
    if family is not None:
        if target is not None:
            raise click.UsageError("give either ID_OR_PATH or --family, not both")
        from harness.graph.seeds import random_topology
        from harness.graph.seeds import seed as make_seed

        if family == "random":
            import random

            return Graph(random_topology(params, random.Random(seed)), "cpu", gen)
        return Graph(make_seed(family, params), "cpu", gen)
    path = Path(target) if target else None
    if path is not None and path.is_file():
        if path.suffix == ".json":
            return Graph(load_genome(path), "cpu", gen)
        from harness.graph.checkpoint import load

        return load(path, device="cpu")
    return _from_profile(target, profile, gen)


def _from_profile(target: str | None, profile: str, gen: Any) -> Graph:
    """Return an individual of the profile by id (prefix), or its champion when no id is given."""
    from harness.graph.build import Graph
    from harness.graph.checkpoint import load
    from harness.profile import Profile
    from harness.store.population import get_individual, individuals

    with Profile.open(profile) as prof:
        if target is None:
            champs = individuals(prof.store, status="champion")
            if not champs:
                raise ProfileError(
                    f"profile '{profile}' has no champion yet",
                    f"evolve one with `insitu evolve{profile_flag(profile)}`, or show a seed "
                    "with --family F --params N",
                )
            target = str(champs[-1]["id"])
        row = get_individual(prof.store, target)
        if row is None:
            raise ProfileError(
                f"no single individual '{target}' in profile '{profile}' (none, or the prefix "
                "matches several), and no file at that path",
                "pass an id (or a longer prefix) from `insitu leaderboard`, a genome .json, a "
                ".safetensors checkpoint, or --family F --params N",
            )
        ckpt = prof.checkpoint_file(row.get("checkpoint"))
        if ckpt is not None:
            return load(ckpt, device="cpu")
        return Graph(load_genome(row["genome"]), "cpu", gen)


def describe(g: Graph) -> dict[str, Any]:
    """Return a JSON-able description: genome, hash, sizes and per-node parameters."""
    genome: Genome = g.genome
    nodes = []
    for n in genome["nodes"]:
        block = g.block(n["id"])
        flops = getattr(block.unit, "flops_per_token", None)
        nodes.append(
            {
                "id": n["id"],
                "op": n["op"],
                "inputs": n["inputs"],
                "residual": n["residual"],
                "scale": None if block.scale is None else float(block.scale.detach()),
                "prenorm": n["prenorm"],
                "args": n["args"],
                "parameters": _params(block),
                "flops_per_token": int(flops()) if flops else 0,
            }
        )
    return {
        "family": g.family,
        "hash": content_hash(genome),
        "width": genome["width"],
        "context": genome["context"],
        "parameters": g.num_parameters(),
        "flops_per_token": g.flops_per_token(),
        "stems": {m: {**s, "parameters": _params(g.stems[m])} for m, s in genome["stems"].items()},
        "nodes": nodes,
        "output": genome["output"],
        "heads": {t: {**h, "parameters": _params(g.heads[t]), "memory_ngrams": _ngrams(g.heads[t])}
                  for t, h in genome["heads"].items()},  # fmt: skip
        "train": genome["train"],
        "parents": genome.get("parents", []),
        "genome": genome,
    }


def _ngrams(head: Any) -> int:
    """Return how many n-grams a head's count memory holds (0 without one)."""
    memory = getattr(head, "memory", None)
    return 0 if memory is None else int(memory.entries)


def render(info: dict[str, Any]) -> str:
    """Return the description as text: a header, stems, the body table and heads."""
    lines = [
        f"family {info['family']}   width {info['width']}   context {info['context']}   "
        f"genome {info['hash'][:12]}",
        f"parameters {info['parameters']:,}   FLOPs/token {info['flops_per_token']:,} "
        "(multiply-adds)   "
        f"nodes {len(info['nodes'])}",
        "",
        "stems",
    ]
    for m, s in info["stems"].items():
        lines.append(f"  {m:<8} {s['op']:<8} {_args_text(s['args'])}  ({s['parameters']:,} params)")
    rows = []
    for n in info["nodes"]:
        res = f"x + {n['scale']:.2f}*f" if n["residual"] else "f"
        mark = "  <- output" if n["id"] == info["output"] else ""
        rows.append(
            [
                str(n["id"]),
                n["op"],
                ",".join(str(i) for i in n["inputs"]),
                res,
                n["prenorm"] or "",
                _args_text(n["args"]),
                f"{n['parameters']:,}",
                f"{n['flops_per_token']:,}{mark}",
            ]
        )
    lines += ["", "body (node 0 = stem output)"]
    header = ["id", "op", "inputs", "residual", "prenorm", "args", "params", "flops"]
    lines += ["  " + line for line in table(rows, header).splitlines()] if rows else ["  (empty)"]
    lines += ["", "heads"]
    for t, h in info["heads"].items():
        reads = h.get("input", info["output"])
        lines.append(
            f"  {t:<8} {h['op']:<8} {_args_text(h['args'])}  reads {reads}  "
            f"({h['parameters']:,} params"
            + (f", {h['memory_ngrams']:,} n-grams counted)" if h.get("memory_ngrams") else ")")
        )
    lines += ["", "train  " + _args_text(info["train"])]
    if info["parents"]:
        lines.append("parents " + ", ".join(info["parents"]))
    return "\n".join(lines)


@graph.command("show")
@profile_option
@click.argument("target", metavar="[ID_OR_PATH]", required=False)
@click.option("--family", help="Show a seed individual of this family (or 'random').")
@click.option("--params", type=int, default=100_000, show_default=True,
              help="Parameter budget of the seed individual.")  # fmt: skip
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the weights.")
@json_option
def show(
    profile: str, target: str | None, family: str | None, params: int, seed: int, as_json: bool
) -> None:
    """Show a genome as a table: nodes, ops, args, inputs, parameters, FLOPs/token, family."""
    g = _resolve(target, profile, family, params, seed)
    info = describe(g)
    if as_json:
        click.echo(json.dumps(info, indent=2, sort_keys=True))
    else:
        click.echo(render(info))


@graph.command("export")
@profile_option
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
def export(profile: str, out: Path) -> None:
    """Write the profile's champion as one checkpoint file, with its metrics in the metadata.

    A file written to `profiles/<template>.champion.safetensors` is the champion that template
    ships (see scripts/pretrain-chat.sh).
    """
    from harness.chat.model import champion_row
    from harness.cliutil import open_profile
    from harness.graph.checkpoint import load, save

    with open_profile(profile) as prof:
        row = champion_row(prof)
        if row is None:
            raise ConfigError(f"profile '{prof.name}' has no champion yet",
                              f"evolve one first: `insitu evolve -p {prof.name}`")  # fmt: skip
        path = prof.checkpoint_path(row["checkpoint"])
        metrics = prof.store.query("SELECT metrics FROM individuals WHERE id = ?", [row["id"]])
        g = load(path, device="cpu")
        extra = {"metrics": metrics[0]["metrics"] or "{}", "params": str(g.num_parameters()),
                 "individual": str(row["id"])}  # fmt: skip
        save(g, out, extra=extra)
    click.echo(f"wrote champion {row['id']} ({g.family}, {g.num_parameters():,} parameters, "
               f"metrics {extra['metrics']}) to {out}")
