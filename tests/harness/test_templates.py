"""Starter templates load, and bad templates give errors that name the bad key."""

from __future__ import annotations

import pytest

from harness.errors import ConfigError
from harness.templates import load_template, parse_template, template_names

REQUIRED = {"chat", "digits", "mnist", "spoken-digits", "shakespeare", "tictactoe"}


def test_required_templates_exist_and_validate() -> None:
    """Every template the issues need is shipped and valid."""
    assert REQUIRED <= set(template_names())
    for name in template_names():
        _, cfg = load_template(name)
        assert cfg.tasks, name


@pytest.mark.parametrize(
    ("toml", "needle"),
    [
        ('[[tasks]]\nname="t"\n[model]\nwidht=3', "unknown key 'model.widht'"),
        ('[[tasks]]\nname="t"\nkind="poem"', "'tasks[0].kind' must be one of"),
        ('[[tasks]]\nname="t"\n[model]\nwidth="big"', "'model.width' must be int"),
        ('[[tasks]]\nname="t"\n[model]\nwidth=-1', "'model.width' must be greater than 0"),
        ('[[tasks]]\nkind="text"', "missing key 'tasks[0].name'"),
        ('description="x"', "no [[tasks]]"),
        ('[[tasks]]\nname="t"\n[[tasks]]\nname="t"', "task names repeat"),
        ('[[tasks]]\nname="g"\nkind="game"', "'tasks[0].game' is missing"),
        ('[[tasks]]\nname="t"\n[evolution]\nenabled=1', "'evolution.enabled' must be bool"),
        ("[[tasks]\nname=", "not valid TOML"),
        ('[[tasks]]\nname="t"\n[evolution]\npolish=1.0', "'evolution.polish' must be at least 0"),
        ('[[tasks]]\nname="t"\n[evolution.seed_train]\nbatch="big"',
         "'evolution.seed_train' must be a table of numbers"),
        ('[[tasks]]\nname="t"\n[model]\nimage_grid=0', "'model.image_grid' must be greater"),
        ('[[tasks]]\nname="t"\n[model]\naudio_convs=5', "'model.audio_convs' must be from 0 to 4"),
        ('[[tasks]]\nname="t"\npool="median"', "'tasks[0].pool' must be one of"),
    ],
)
def test_bad_template_names_the_key(toml: str, needle: str) -> None:
    """Each kind of mistake is reported with the key that is wrong."""
    with pytest.raises(ConfigError) as err:
        parse_template(toml, "template 'x'")
    assert needle in str(err.value)


def test_typo_suggests_the_right_key() -> None:
    """An unknown key close to a real one gets a 'did you mean' hint."""
    with pytest.raises(ConfigError) as err:
        parse_template('[[tasks]]\nname="t"\n[evolution]\npopulaton=3', "t")
    assert "did you mean 'population'" in str(err.value)


def test_media_templates_polish_and_size_their_seeds() -> None:
    """The media templates polish half of a timed run and set the seeds' batch and image grid."""
    from harness.evolve.seeding import plan_tasks, seed_genomes  # noqa: F401 - import check
    from harness.evolve.settings import Settings

    _, cfg = load_template("mnist")
    settings = Settings.from_config(cfg)
    assert settings.polish == 0.5 and settings.seed_train == {"batch": 32}
    assert cfg.model.image_grid == 4


def test_config_pools_match_the_heads() -> None:
    """A task's `pool` setting accepts exactly the poolings the classify head knows."""
    from harness.config import POOLS
    from harness.graph.heads.base import POOLS as HEAD_POOLS

    assert set(POOLS) == set(HEAD_POOLS)


def test_spoken_digits_template_convolves_and_pools_mean_and_max() -> None:
    """spoken-digits seeds get the conv audio stem and a mean-plus-max classify head; digits max."""
    from harness.evolve.seeding import stem_args

    _, cfg = load_template("spoken-digits")
    assert stem_args(cfg.model)["audio"] == {"mels": 32, "stride": 1, "convs": 3,
                                             "channels": cfg.model.audio_channels}
    assert cfg.task("spoken-digits").pool == "meanmax"
    assert load_template("digits")[1].task("digits").pool == "max"


def test_spoken_digits_template_seeds_mlp_bodies_of_several_sizes() -> None:
    """spoken-digits seeds a population of mlp bodies only, at several budgets, all under it."""
    import random

    from harness.evolve.seeding import TaskPlan, seed_genomes
    from harness.graph.build import Graph

    _, cfg = load_template("spoken-digits")
    heads = {"spoken-digits": {"op": "classify", "args": {"classes": 10, "pool": "meanmax"}}}
    plan = TaskPlan(["spoken-digits"], heads, ["audio"], {"spoken-digits": "label"}, 3000, 40_000)
    genomes = seed_genomes(plan, cfg.model, 4, random.Random(0), 45_000)
    graphs = [Graph(g, device="cpu") for g in genomes]
    assert {g.family for g in graphs} == {"mlp"}
    sizes = [g.num_parameters() for g in graphs]
    assert len(set(sizes)) >= 2 and max(sizes) <= 45_000, sizes
