"""The bundle's model card: README.md with YAML front matter in the Hugging Face style."""

from __future__ import annotations

import json
from typing import Any


def _q(value: Any) -> str:
    """Return a YAML scalar (JSON strings and numbers are valid YAML)."""
    return json.dumps(value, ensure_ascii=False)


def model_card(manifest: dict[str, Any], genome: dict[str, Any], individual: dict[str, Any],
               gates: dict[str, dict[str, float]], lineage: list[dict[str, Any]],
               data_summary: dict[str, Any]) -> str:  # fmt: skip
    """Return the model card text: front matter (license, tags, tasks, metrics), then sections."""
    name = manifest["profile"]["name"]
    tasks = manifest["tasks"]
    lines = ["---", f"license: {_q(manifest['license'])}", "library_name: insitu", "tags:"]
    tags = ["insitu", "micro-model", str(genome.get("family", "random"))]
    tags += sorted({str(t["modality"]) for t in tasks})
    lines += [f"  - {_q(t)}" for t in dict.fromkeys(tags)]
    lines.append("tasks:")
    for t in tasks:
        lines.append(f"  - name: {_q(t['name'])}\n    kind: {_q(t['kind'])}\n"
                     f"    modality: {_q(t['modality'])}")
    lines.append("model-index:\n  - name: " + _q(name) + "\n    results:")
    for task, metrics in gates.items():
        lines.append(f"      - task:\n          name: {_q(task)}\n        dataset:\n"
                     f"          name: {_q(f'{task} gate set')}\n          type: gate\n"
                     "        metrics:")
        for key, value in sorted(metrics.items()):
            lines.append(f"          - type: {_q(key)}\n            value: {value:.6g}")
    lines.append("---")
    params = individual.get("params") or individual.get("metrics", {}).get("params")
    nodes = ", ".join(f"{n['op']}" for n in genome.get("nodes", [])) or "(stem straight to heads)"
    heads = ", ".join(f"{k}: {v['op']}" for k, v in genome.get("heads", {}).items())
    lines += [
        "",
        f"# {name}",
        "",
        f"An insitu micro-model exported from the profile `{name}` by insitu "
        f"{manifest['app']['version']} on {manifest['created']}.",
        "",
        "## Architecture",
        "",
        f"- family: {genome.get('family')}, width {genome.get('width')}, context "
        f"{genome.get('context')}, {params} parameters",
        f"- stems: {', '.join(genome.get('stems', {}))}",
        f"- body: {nodes}",
        f"- heads: {heads}",
        "- weights: `champion/model.safetensors` (safetensors, genome in its metadata)",
        "",
        "## Lineage",
        "",
        f"Champion `{individual.get('id')}` of generation {individual.get('generation')}.",
    ]
    for step in lineage:
        lines.append(f"- {step.get('action', 'exported')} as `{step.get('profile')}` on "
                     f"{step.get('at')} (insitu {step.get('insitu')}, champion "
                     f"`{step.get('champion')}`, tasks {', '.join(step.get('tasks', []))})")
    lines += ["", "## Training data", ""]
    for t in tasks:
        counts = data_summary.get(t["name"], {})
        lines.append(f"- `{t['name']}` ({t['kind']}, {t['modality']}): "
                     f"{counts.get('train', 0)} training and {counts.get('heldout', 0)} held-out "
                     "examples in the exporting profile")
    included = "included" if manifest["includes"]["data"] else "not included"
    lines += [f"- conversations, attachments and examples: {included}", "",
              "## Gate set", "",
              "Each task has a few held-out probe examples under `gates/` with the champion's "
              "metrics on them (above); a grown model must keep them.", "",
              "## How to use", "", "```sh",
              "insitu bundle inspect THIS.insitu      # what is inside",
              "insitu import THIS.insitu --as NAME    # a new profile NAME",
              "insitu chat -p NAME                    # talk to it",
              "```", ""]  # fmt: skip
    return "\n".join(lines)
