"""The `game` task: a graph with policy and value heads, scored by play with MCTS.

The graph plays through MCTS (its policy as priors, its value at the leaves) against fixed
opponents: random play, alpha-beta search at the task's depths and, for tic-tac-toe, the
perfect solver, as either side. Objectives: `vs_<opponent>` scores (win 1, draw 0.5), wins
and losses per opponent, and `fitness`, the mean score. Training happens by self-play in the
arena (harness.games.arena); this task only scores.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

from harness.config import TaskConfig
from harness.errors import ConfigError
from harness.tasks.base import ScoredTask

if TYPE_CHECKING:
    from harness.graph.build import Graph

#: Games per opponent, MCTS simulations per move and alpha-beta depths, by game.
DEFAULTS: dict[str, dict[str, Any]] = {
    "tictactoe": {"games": 20, "simulations": 100, "depths": (2,)},
    "connect4": {"games": 10, "simulations": 100, "depths": (2, 4)},
}


class GameTask(ScoredTask):
    """Scores a game graph by its results against fixed opponents."""

    kind = "game"

    def __init__(self, config: TaskConfig, games: int | None = None,
                 simulations: int | None = None) -> None:  # fmt: skip
        super().__init__(config)
        from harness.games import GAMES, get_game

        if config.game not in GAMES:
            raise ConfigError(f"task {config.name} names the unknown game {config.game!r}",
                              f"set game = one of: {', '.join(GAMES)}")  # fmt: skip
        self.game = get_game(config.game)
        d = DEFAULTS.get(self.game.name, DEFAULTS["tictactoe"])
        self.games = int(games or d["games"])
        self.simulations = int(simulations or d["simulations"])
        self.depths: tuple[int, ...] = tuple(d["depths"])

    def head(self) -> dict[str, Any]:
        """Return the policy head spec (the value head comes with it; see `heads`)."""
        return self.heads()["policy"]

    def heads(self) -> dict[str, dict[str, Any]]:
        """Return both head specs a game graph needs: `policy` and `value`."""
        from harness.games.net import game_heads

        return game_heads(self.game)

    def score(self, graph: Graph, rng: random.Random) -> dict[str, float]:
        """Play the graph (with MCTS) against the fixed opponents; return its objectives."""
        from harness.games.mcts import MCTSConfig, MCTSPlayer
        from harness.games.net import GraphEvaluator
        from harness.games.tournament import fixed_opponents, score_against

        player = MCTSPlayer(GraphEvaluator(graph, self.game),
                            MCTSConfig(simulations=self.simulations))  # fmt: skip
        return score_against(self.game, player, fixed_opponents(self.game, self.depths),
                             self.games, rng)  # fmt: skip
