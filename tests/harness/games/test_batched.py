"""Batched search and self-play: same answers as the one-at-a-time path, worker processes too."""

from __future__ import annotations

import random

import pytest
import torch

from harness.games import ConnectFour, TicTacToe
from harness.games.base import Game, State
from harness.games.batched import root_value, search_many, search_roots, self_play_many
from harness.games.connect4 import LINES_AT
from harness.games.mcts import MCTSConfig, MCTSPlayer, UniformEvaluator, pick, search
from harness.games.net import GraphEvaluator, encode_batch, seed_genome
from harness.games.players import AlphaBetaPlayer, RandomPlayer, play_many
from harness.games.pool import (
    Job,
    ScoreJob,
    SelfPlayPool,
    TrainJob,
    run_score,
    run_train,
    split_games,
    weights_of,
)
from harness.games.tournament import score_against
from harness.graph.build import Graph


def board(game: Game, moves: list[int]) -> State:
    """Return the state after the moves."""
    s = game.initial()
    for a in moves:
        s = game.apply(s, a)
    return s


def uniform_batch(game: Game):  # type: ignore[no-untyped-def]
    """Return a batch evaluator with uniform priors and value 0."""
    one = UniformEvaluator(game)
    return lambda states: [one(s) for s in states]


def test_connect4_step_decides_like_the_line_table() -> None:
    """The fast unchecked move finds the same winners as a check of every line through the disc."""
    game, rng = ConnectFour(), random.Random(0)
    for _ in range(300):
        s = game.initial()
        while not s.over:
            a = rng.choice(game.legal(s))
            nxt = game.step(s, a)
            cell = next(i for i in range(42) if s.cells[i] != nxt.cells[i])
            won = any(all(nxt.cells[i] == s.player for i in ln) for ln in LINES_AT[cell])
            assert nxt.winner == (s.player if won else (0 if all(nxt.cells[:7]) else None))
            assert nxt == game.apply(s, a)
            s = nxt


def test_vectorised_encoding_matches_encode() -> None:
    """encode_batch's tokens equal Game.encode for random positions of both games."""
    rng = random.Random(1)
    for game in (TicTacToe(), ConnectFour()):
        states = [game.random_state(rng, 20) for _ in range(40)]
        tokens, legal = encode_batch(game, states)
        assert tokens.tolist() == [game.encode(s) for s in states]
        assert legal.tolist() == [[a in game.legal(s) for a in range(game.actions)]
                                  for s in states]  # fmt: skip


def test_search_many_matches_search_one_by_one() -> None:
    """Trees searched in lockstep do not disturb each other: each gets the visits it gets alone."""
    game = ConnectFour()
    graph = Graph(seed_genome(game, "mlp", 4_000, random.Random(0)), device="cpu",
                  generator=torch.Generator().manual_seed(0))  # fmt: skip
    rng = random.Random(2)
    states = [game.random_state(rng, 12) for _ in range(6)] + [board(game, [0, 0, 1, 1, 2, 2, 3])]
    config = MCTSConfig(simulations=40)
    evaluator = GraphEvaluator(graph, game)
    together = search_many(game, states, evaluator.batch, config, random.Random(0))
    alone = [search(game, s, GraphEvaluator(graph, game), config, random.Random(0))
             for s in states]  # fmt: skip
    assert together == alone
    assert together[-1] == [0] * game.actions  # a finished game is not searched
    assert evaluator.calls <= config.simulations + 1  # one graph call per simulation round


def test_search_many_takes_wins_and_blocks() -> None:
    """In lockstep, MCTS still wins in one and blocks a loss in one (uniform priors)."""
    ttt, c4 = TicTacToe(), ConnectFour()
    win = board(ttt, [0, 3, 1, 4])  # X to move: 2 wins
    block = board(ttt, [0, 4, 8, 2])  # X must play 6
    visits = search_many(ttt, [win, block], uniform_batch(ttt), MCTSConfig(simulations=300),
                         random.Random(0))  # fmt: skip
    assert [pick(v, 0.0, random.Random(0)) for v in visits] == [2, 6]
    player = MCTSPlayer(GraphEvaluator(Graph(seed_genome(c4, "mlp", 3_000, random.Random(0)),
                                             device="cpu"), c4), MCTSConfig(simulations=400))
    must = board(c4, [0, 6, 1, 6, 0, 6])  # O has three in column 6
    wins = board(c4, [0, 6, 1, 6, 2, 5])  # X has 0, 1, 2 on the bottom row: 3 wins
    assert player.choose_many(c4, [must, wins], random.Random(0)) == [6, 3]


def test_self_play_many_labels_every_position() -> None:
    """Side-by-side self-play gives whole games: visit distributions and results per mover."""
    game = TicTacToe()
    games = self_play_many(game, uniform_batch(game), MCTSConfig(simulations=30),
                           random.Random(3), 5)  # fmt: skip
    assert len(games) == 5
    for samples in games:
        plain = samples[::8]  # each position comes with its 8 symmetric copies, identity first
        assert len(samples) == 8 * len(plain) and len(plain) >= 5
        assert [s.state.moves for s in plain] == list(range(len(plain)))
        for s in samples:
            assert abs(sum(s.policy) - 1.0) < 1e-9
            assert all(p == 0 for a, p in enumerate(s.policy) if s.state.cells[a])
        last = plain[-1]
        final = game.apply(last.state, max(range(9), key=lambda a: last.policy[a]))
        for s in plain:
            assert s.value == game.result(final, s.state.player) or not final.over


def test_self_play_blends_the_search_value_into_the_value_target() -> None:
    """With q_weight the same games get (1 - w) z + w q targets, q the root's search value."""
    game, cfg = TicTacToe(), MCTSConfig(simulations=30)
    plain = self_play_many(game, uniform_batch(game), cfg, random.Random(3), 4)
    blended = self_play_many(game, uniform_batch(game), cfg, random.Random(3), 4, q_weight=0.5)
    moved = 0
    for a, b in zip(plain, blended, strict=True):
        assert [s.state for s in a] == [s.state for s in b]  # q does not change the games
        for sa, sb in zip(a, b, strict=True):
            q = 2 * sb.value - sa.value
            assert -1.0 - 1e-9 <= q <= 1.0 + 1e-9
            moved += sb.value != sa.value
    assert moved > 0
    win_in_one = board(game, [0, 3, 1, 4])  # X to move: 2 wins
    root = search_roots(game, [win_in_one], uniform_batch(game), MCTSConfig(simulations=200),
                        random.Random(0))[0]  # fmt: skip
    assert root_value(root) > 0.8


def test_play_many_and_scores() -> None:
    """Games side by side end properly; alpha-beta beats a random player from both sides."""
    game = ConnectFour()
    ab, rnd = AlphaBetaPlayer(game, 2), RandomPlayer()
    results = play_many(game, [(ab, rnd), (rnd, ab)] * 3, random.Random(4))
    assert results == [1.0, -1.0] * 3
    metrics = score_against(game, ab, [rnd], 4, random.Random(5))
    assert metrics["vs_random"] == 1.0 and metrics["fitness"] == 1.0


def test_worker_processes_give_the_same_games() -> None:
    """Self-play jobs in two worker processes return exactly what they return in this one."""
    game = TicTacToe()
    graph = Graph(seed_genome(game, "mlp", 3_000, random.Random(0)), device="cpu",
                  generator=torch.Generator().manual_seed(0))  # fmt: skip
    config = MCTSConfig(simulations=12)
    jobs = [Job.of(game.name, graph, n, config, seed)
            for seed, (_, n) in enumerate(split_games(6, 1, 2))]  # fmt: skip
    assert [n for _, n in split_games(6, 1, 2)] == [3, 3]
    assert split_games(9, 3, 2) == [(0, 3), (0, 2), (1, 1), (1, 1), (2, 1), (2, 1)]
    here = SelfPlayPool(0).run(jobs)
    pool = SelfPlayPool(2)
    try:
        there = pool.run(jobs)
    finally:
        pool.close()
    assert there == here
    assert sum(len(g) for g in here) == 6


def test_training_and_scoring_jobs_match_in_workers() -> None:
    """Training and scoring jobs give the same weights and scores in workers as in-process."""
    game = TicTacToe()
    graph = Graph(seed_genome(game, "mlp", 3_000, random.Random(0)), device="cpu",
                  generator=torch.Generator().manual_seed(0))  # fmt: skip
    samples = tuple(s for g in SelfPlayPool(0).run([Job.of(game.name, graph, 3,
                    MCTSConfig(simulations=8), 0)]) for s in g[0] + g[1] + g[2])  # fmt: skip
    train_jobs = [TrainJob(game.name, graph.genome, weights_of(graph), samples, 5, 16, 0.01, seed)
                  for seed in (1, 2)]  # fmt: skip
    score_jobs = [ScoreJob(game.name, graph.genome, weights_of(graph), (1,), 2, 8, seed)
                  for seed in (3, 4)]  # fmt: skip
    here = SelfPlayPool(0)
    trained, scores = here.map(run_train, train_jobs), here.map(run_score, score_jobs)
    pool = SelfPlayPool(2)
    try:
        trained2, scores2 = pool.map(run_train, train_jobs), pool.map(run_score, score_jobs)
    finally:
        pool.close()
    for a, b in zip(trained, trained2, strict=True):
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert not all(torch.equal(trained[0][k], graph.state_dict()[k]) for k in trained[0])
    assert scores == scores2
    assert set(scores[0]) >= {"vs_random", "vs_alphabeta1", "vs_perfect", "fitness"}


def test_evaluator_cache_overflow_keeps_the_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    """When a batch fills the evaluator's cache past its limit, the cache is emptied but the
    batch still gets every state's output, cached ones included (long matches used to fail)."""
    import harness.games.net as net

    monkeypatch.setattr(net, "CACHE_LIMIT", 6)
    game = ConnectFour()
    graph = Graph(seed_genome(game, "mlp", 2000, random.Random(0)), device="cpu")
    evaluator = GraphEvaluator(graph, game)
    rng = random.Random(2)
    states = list(dict.fromkeys(game.random_state(rng, 20) for _ in range(12)))
    first = evaluator.batch(states[:5])
    both = evaluator.batch(states[:5] + states[5:])  # 5 cached + the rest new: over the limit
    assert both[:5] == first and len(both) == len(states)
    assert len(evaluator.cache or {}) == len(states) - 5
    uncached = GraphEvaluator(graph, game, cache=False).batch(states)
    for (p, v), (q, w) in zip(both, uncached, strict=True):
        assert v == pytest.approx(w, abs=1e-5) and p == pytest.approx(q, abs=1e-5)
