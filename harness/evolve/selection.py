"""Selection strategies: tournament parent choice, aging removal and the champion rule."""

from __future__ import annotations

import random
from collections.abc import Sequence

from .fitness import Objectives, TaskMetric, pareto_front
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


def top_phase(members: Sequence[Member]) -> list[Member]:
    """Return the members in the latest phase any member reached."""
    if not members:
        return []
    top = max(m.phase_rank for m in members)
    return [m for m in members if m.phase_rank == top]


def front(members: Sequence[Member]) -> list[Member]:
    """Return the Pareto front (quality vs parameters vs speed) of the members in the top phase."""
    gated = top_phase(members)
    return [gated[i] for i in pareto_front([objectives(m) for m in gated])]


class ChampionRule:
    """The champion: the best held-out quality among members whose gates hold.

    Qualities within `margin` of the best are a tie (a small held-out set moves by a whole
    example at a time: one clip of 200 is half a point of accuracy). A tie goes to the better
    `tiebreak` score (held-out cross-entropy for label tasks), so a copy that trained on and
    became more confident replaces its parent; then to the higher quality, fewer parameters
    and the earlier born. Without a margin or a tiebreak score the champion is the front's best
    quality; without a tiebreak score, the margin changes nothing.
    """

    def __init__(self, tiebreak: TaskMetric | None = None, margin: float = 0.0) -> None:
        self.tiebreak = tiebreak
        self.margin = max(0.0, float(margin))

    def key(self, m: Member) -> tuple[float, float, int, int]:
        """Return the member's ranking key among ties (higher is better)."""
        t = self.tiebreak.score(m.metrics) if self.tiebreak is not None else None
        q = m.final_quality if m.final_quality is not None else float("-inf")
        return (float("-inf") if t is None else t, q, -m.params, -m.birth)

    def choose(self, members: Sequence[Member]) -> Member | None:
        """Return the champion: among the top phase's members within `margin` of the best
        quality, the best by tie-break score, quality, fewer parameters, then the earlier born."""
        measured = [(m.final_quality, m) for m in top_phase(members)
                    if m.final_quality is not None]  # fmt: skip
        if not measured:
            return None
        best = max(q for q, _ in measured)
        tied = [m for q, m in measured if q >= best - self.margin - 1e-12]
        return max(tied, key=self.key)
