"""Arena individuals in the profile store: genomes, individuals, checkpoints and game ratings.

Each contestant is an `individuals` row (run_id = the arena run, operator = how it was made)
with its checkpoint under `checkpoints/arena/<run>/`; its Elo, tournament record, results
against the fixed opponents and whether it is the game's champion are a `game_ratings` row
(migration 0004_games). `insitu play` loads the newest champion of a game from there.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.errors import EvolutionError
from harness.genome import canonical_json, content_hash
from harness.graph import checkpoint
from harness.profile import Profile, profile_flag
from harness.store.db import Store
from harness.store.population import Parent, add_individual, put_genome, set_status

if TYPE_CHECKING:
    from harness.games.arena import Arena, Contestant
    from harness.games.base import Game


class ArenaStore:
    """Writes an arena run into a profile."""

    def __init__(self, profile: Profile) -> None:
        self.profile = profile
        self.store: Store = profile.store

    def _rel(self, arena: Arena, c: Contestant) -> str:
        """Return a contestant's checkpoint path relative to the profile folder."""
        return f"checkpoints/arena/{arena.run_id}/{c.id}.safetensors"

    def add(self, arena: Arena, c: Contestant) -> None:
        """Store a new contestant's genome, row and lineage (its checkpoint comes with scores)."""
        genome = c.graph.genome
        gid = content_hash(genome)
        put_genome(self.store, gid, canonical_json(genome), c.family, c.graph.num_parameters())
        c.checkpoint = self._rel(arena, c)
        add_individual(
            self.store, gid, checkpoint=c.checkpoint, generation=arena.generation,
            parents=[Parent(p, "parent", c.operator) for p in c.parents], individual_id=c.id,
            extra={"run_id": arena.run_id, "birth": c.birth, "phase": "arena",
                   "operator": c.operator},
        )  # fmt: skip

    def save_generation(self, arena: Arena) -> None:
        """Write every member's weights, metrics, Elo and record; mark the champion."""
        root = Path(self.profile.path)
        now = time.time()
        tag = {"game": arena.game.name, "encoding": arena.game.encoding}
        for c in arena.members:
            checkpoint.save(c.graph, root / c.checkpoint, extra=tag)
        with self.store.write() as db:
            db.execute("UPDATE game_ratings SET champion = 0 WHERE game = ?", [arena.game.name])
            for c in arena.members:
                rec = arena.standings.records.get(c.id)
                champ = c is arena.champion
                db.execute(
                    "UPDATE individuals SET metrics = ?, fitness = ?, status = ? WHERE id = ?",
                    [json.dumps(c.metrics, sort_keys=True), c.fitness,
                     "champion" if champ else "alive", c.id],
                )  # fmt: skip
                db.execute(
                    "INSERT OR REPLACE INTO game_ratings (individual_id, game, run_id, elo, games, "
                    "wins, draws, losses, results, fitness, champion, checkpoint, updated_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [c.id, arena.game.name, arena.run_id, arena.standings.rating(c.id),
                     rec.games if rec else 0, rec.wins if rec else 0, rec.draws if rec else 0,
                     rec.losses if rec else 0, json.dumps(c.metrics, sort_keys=True), c.fitness,
                     int(champ), c.checkpoint, now],
                )  # fmt: skip

    def retire(self, c: Contestant) -> None:
        """Mark a contestant removed from the population."""
        set_status(self.store, c.id, "dead")


def arena_command(game: str, profile: str | None = None) -> str:
    """Return the command that trains a champion of `game` (in `profile` when given)."""
    return f"insitu arena{profile_flag(profile)} --game {game}"


def champion_row(store: Store, game: str, profile: str | None = None) -> dict[str, Any]:
    """Return the game's current champion rating row, or raise EvolutionError saying what to do."""
    rows = store.query(
        "SELECT * FROM game_ratings WHERE game = ? AND champion = 1 ORDER BY updated_at DESC "
        "LIMIT 1",
        [game],
    )
    if not rows:
        raise EvolutionError(f"this profile has no {game} champion yet",
                             f"train one first with `{arena_command(game, profile)}`")  # fmt: skip
    return rows[0]


def check_encoding(path: Path, game: Game, profile: str | None = None) -> None:
    """Raise EvolutionError unless the checkpoint was trained on the game's current encoding.

    Checkpoints from before the encoding was recorded read the standard `cells` encoding.
    """
    found = checkpoint.read_metadata(path).get("encoding", "cells")
    if found != game.encoding:
        raise EvolutionError(
            f"this {game.name} champion was trained on the '{found}' board encoding, but the "
            f"game now encodes boards as '{game.encoding}', so it would misread every position",
            f"train a new champion with `{arena_command(game.name, profile)}`",
        )


def ratings(store: Store, game: str, run_id: str | None = None) -> list[dict[str, Any]]:
    """Return the rating rows of a game (of one run when given), best Elo first."""
    sql = "SELECT * FROM game_ratings WHERE game = ?"
    args: list[Any] = [game]
    if run_id:
        sql += " AND run_id = ?"
        args.append(run_id)
    return store.query(sql + " ORDER BY elo DESC", args)
