"""MCTS: forced wins and blocks from prepared positions; self-play samples and real training."""

from __future__ import annotations

import random

import torch

from harness.games import ConnectFour, TicTacToe
from harness.games.mcts import MCTSConfig, MCTSPlayer, UniformEvaluator, pick, search
from harness.games.net import GraphEvaluator, encode_batch, heads, seed_genome
from harness.games.players import PerfectPlayer, RandomPlayer, match
from harness.games.selfplay import Replay, loss, self_play, train
from harness.games.solver import Solver
from harness.graph.build import Graph


def board(game: TicTacToe | ConnectFour, moves: list[int]):  # type: ignore[no-untyped-def]
    """Return the state after the moves."""
    s = game.initial()
    for a in moves:
        s = game.apply(s, a)
    return s


def test_mcts_takes_a_win_in_one() -> None:
    """With uniform priors, MCTS plays the winning move (X has 0 and 1; 2 wins)."""
    game = TicTacToe()
    s = board(game, [0, 3, 1, 4])  # X: 0, 1; O: 3, 4 -> X to move, 2 wins (and O threatens 5)
    for seed in range(5):
        visits = search(game, s, UniformEvaluator(game), MCTSConfig(simulations=200),
                        random.Random(seed))  # fmt: skip
        assert pick(visits, 0.0, random.Random(seed)) == 2


def test_mcts_blocks_a_loss_in_one() -> None:
    """MCTS blocks the opponent's only winning move when it has no win of its own."""
    game = TicTacToe()
    s = board(game, [0, 4, 8, 2])  # X: 0, 8; O: 4, 2 -> O threatens 6; X must play 6
    for seed in range(5):
        visits = search(game, s, UniformEvaluator(game), MCTSConfig(simulations=300),
                        random.Random(seed))  # fmt: skip
        assert pick(visits, 0.0, random.Random(seed)) == 6
    c4 = ConnectFour()
    s = board(c4, [0, 6, 1, 6, 0, 6])  # O has three in column 6: X must drop there
    player = MCTSPlayer(UniformEvaluator(c4), MCTSConfig(simulations=400))
    assert player.choose(c4, s, random.Random(0)) == 6


def test_mcts_value_sign_matters() -> None:
    """A perfect value oracle makes MCTS never lose; the negated oracle makes it lose every game."""
    game = TicTacToe()
    solver = Solver(game)
    uniform = UniformEvaluator(game)

    def oracle(state):  # type: ignore[no-untyped-def]
        """Return uniform priors and the exact value."""
        return uniform(state)[0], solver.value(state)

    def liar(state):  # type: ignore[no-untyped-def]
        """Return uniform priors and the negated exact value."""
        return uniform(state)[0], -solver.value(state)

    cfg = MCTSConfig(simulations=30, decisive=False)  # the value alone decides
    perfect = PerfectPlayer(game, solver)
    good = match(game, MCTSPlayer(oracle, cfg), perfect, 10, random.Random(0))
    bad = match(game, MCTSPlayer(liar, cfg), perfect, 10, random.Random(0))
    assert good["losses"] == 0
    assert bad["losses"] == 10


def test_root_noise_and_temperature() -> None:
    """Noise changes the visit counts of one search; temperature 1 samples less-visited moves."""
    game = TicTacToe()
    cfg = MCTSConfig(simulations=60)
    quiet = search(game, game.initial(), UniformEvaluator(game), cfg, random.Random(1))
    noisy = search(game, game.initial(), UniformEvaluator(game), cfg, random.Random(1), noise=True)
    assert sum(quiet) == sum(noisy) == 60
    assert quiet != noisy
    rng = random.Random(0)
    picks = {pick([1, 5, 1], 1.0, rng) for _ in range(200)}
    assert picks == {0, 1, 2}
    assert {pick([1, 5, 1], 0.0, rng) for _ in range(20)} == {1}


def tiny_graph(game: TicTacToe, family: str = "gru") -> Graph:
    """Return a small seeded graph with the game's policy and value heads."""
    genome = seed_genome(game, family, 3000, random.Random(0))
    return Graph(genome, device="cpu", generator=torch.Generator().manual_seed(0))


def test_self_play_samples_and_training_lower_the_loss() -> None:
    """Self-play yields (state, visit distribution, result) samples; training lowers their loss."""
    game = TicTacToe()
    graph = tiny_graph(game)
    rng = random.Random(0)
    replay = Replay()
    evaluator = GraphEvaluator(graph, game)
    for _ in range(6):
        samples = self_play(game, evaluator, MCTSConfig(simulations=16), rng)
        assert len(samples) % 8 == 0  # eight symmetries per position
        replay.add(samples)
    for s in list(replay.samples)[:50]:
        assert abs(sum(s.policy) - 1.0) < 1e-6
        assert s.value in (-1.0, 0.0, 1.0)
        legal = set(game.legal(s.state))
        assert all(p == 0 or a in legal for a, p in enumerate(s.policy))
    batch = list(replay.samples)[:64]
    with torch.no_grad():
        before = float(loss(graph, game, batch))
    train(graph, game, replay, 60, rng, batch=32, lr=1e-2)
    with torch.no_grad():
        after = float(loss(graph, game, batch))
    assert after < before
    tokens, legal = encode_batch(game, [game.initial()])
    with torch.no_grad():
        logits, value = heads(graph, tokens, legal)
    assert logits.shape == (1, 9) and value.shape == (1,)
    assert -1.0 <= float(value[0]) <= 1.0


def test_graph_guided_mcts_beats_random() -> None:
    """An MCTS player guided by a (barely trained) graph wins most games against random play."""
    game = TicTacToe()
    player = MCTSPlayer(GraphEvaluator(tiny_graph(game, "mlp"), game), MCTSConfig(simulations=40))
    result = match(game, player, RandomPlayer(), 10, random.Random(0))
    assert result["wins"] >= 6 and result["losses"] <= 1


def test_decisive_moves_block_a_threat_with_few_simulations() -> None:
    """Scoring leaves whose mover wins at once lets 14 simulations block; without it they miss."""
    c4 = ConnectFour()
    s = board(c4, [0, 6, 1, 6, 0, 6])  # O has three in column 6: X must drop there

    def picks(decisive: bool) -> list[int]:
        """Return the move each of 5 seeded searches picks."""
        cfg = MCTSConfig(simulations=14, decisive=decisive)
        return [pick(search(c4, s, UniformEvaluator(c4), cfg, random.Random(k)), 0.0,
                     random.Random(k)) for k in range(5)]  # fmt: skip

    assert picks(True) == [6] * 5
    assert picks(False) != [6] * 5


def test_winning_moves_match_trying_every_move() -> None:
    """Connect-four's fast count of winning moves agrees with stepping each legal move."""
    from harness.games.base import Game

    game = ConnectFour()
    rng = random.Random(3)
    seen = {0: 0, 1: 0, 2: 0}
    for _ in range(300):
        s = game.initial()
        for _ in range(rng.randrange(0, 30)):
            if s.over:
                break
            s = game.apply(s, rng.choice(game.legal(s)))
        for player in (1, 2):
            count = game.winning_moves(s, player)
            assert count == Game.winning_moves(game, s, player)
            seen[min(count, 2)] += 1
    assert all(n > 5 for n in seen.values())


def test_a_double_threat_is_scored_as_lost_before_any_evaluation() -> None:
    """A leaf where the opponent has two winning moves and the mover none is valued -1."""
    from harness.games.batched import Node, _decided

    c4 = ConnectFour()
    s = board(c4, [1, 6, 2, 6, 3, 5])  # X: 1, 2, 3 on the bottom row; 0 and 4 both win for X
    assert c4.winning_moves(s, 1) == 2 and s.player == 1
    o_to_move = board(c4, [1, 6, 2, 6, 3])  # O to move: no win of its own, X threatens twice
    node = Node(o_to_move, 1.0)
    assert _decided(c4, node) == -1.0
    assert _decided(c4, Node(s, 1.0)) == 1.0
    assert _decided(c4, Node(board(c4, [3, 3]), 1.0)) == 0.0
