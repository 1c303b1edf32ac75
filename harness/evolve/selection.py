"""Selection strategies: tournament parent choice, aging removal and the champion rule."""

from __future__ import annotations

import random
from collections.abc import Sequence

from .fitness import Objectives, pareto_front
from .member import Member


class Tournament:
    """Pick the best of `size` members drawn at random (seeded rng)."""

    def __init__(self, size: int = 3) -> None:
        self.size = max(1, int(size))

    def select(self, members: Sequence[Member], rng: random.Random) -> Member:
        """Return the winner of one tournament (ties go to the first drawn)."""
        if not members:
            raise ValueError("cannot select from an empty population")
        contenders = rng.sample(list(members), min(self.size, len(members)))
        best = contenders[0]
        for m in contenders[1:]:
            if m.rank() > best.rank():
                best = m
        return best


class Aging:
    """Regularized evolution: while the population is too big, the oldest dies."""

    def victims(self, members: Sequence[Member], size: int) -> list[Member]:
        """Return the members to remove, oldest first (the champion is spared)."""
        alive = sorted(members, key=lambda m: m.birth)
        extra = len(alive) - size
        out = []
        for m in alive:
            if extra <= 0:
                break
            if m.status == "champion":
                continue
            out.append(m)
            extra -= 1
        return out


def objectives(m: Member) -> Objectives:
    """Return a member's objectives: held-out quality, parameters and FLOPs per token."""
    q = m.final_quality if m.final_quality is not None else float("-inf")
    return Objectives(q, m.params, float(m.flops))


def front(members: Sequence[Member]) -> list[Member]:
    """Return the Pareto front (quality vs parameters vs speed) of the members in the top phase."""
    if not members:
        return []
    top = max(m.phase_rank for m in members)
    gated = [m for m in members if m.phase_rank == top]
    return [gated[i] for i in pareto_front([objectives(m) for m in gated])]


class ChampionRule:
    """The champion: the best held-out quality on the front, among members whose gates hold."""

    def choose(self, members: Sequence[Member]) -> Member | None:
        """Return the champion (ties: fewer parameters, then the earlier born)."""
        best = None
        for m in front(members):
            if m.final_quality is None:
                continue
            key = (m.final_quality, -m.params, -m.birth)
            if best is None or key > (best.final_quality, -best.params, -best.birth):
                best = m
        return best
