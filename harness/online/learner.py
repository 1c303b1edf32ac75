"""River-like online learning (`learn_one`): a few adapter steps per signal, in a worker thread.

Only the bias-injection adapters train (LoRA pairs and control weights); the base graph stays
frozen and serves as the reference for unwanted replies. Every step mixes the new signal with a
replay sample weighted by time decay. When no signal waits, the worker rehearses: it keeps
stepping on the corrections the model does not yet reproduce (greedily), a bounded number of
steps, so a correction sticks without slowing the reply to the next signal.
"""

from __future__ import annotations

import logging
import queue
import random
import threading
import time
from collections.abc import Callable, Sequence

import torch

from harness.config import OnlineConfig
from harness.graph.build import Graph
from harness.online.adam import Adam
from harness.online.batch import encode_pair
from harness.online.control import ControlState
from harness.online.gate import ModelGate
from harness.online.losses import batch_loss, fill_reference
from harness.online.persist import OnlineState
from harness.online.replay import POSITIVE, Item, ReplayBuffer
from harness.online.signals import LearnReport, Signal, observe, signal_items

log = logging.getLogger(__name__)

#: time budget of the steps for one signal (one step always runs; `config.steps` when they fit)
SIGNAL_BUDGET_S = 0.25
#: at most this many times `config.steps` steps per signal while its reply is not yet learned
MAX_STEP_FACTOR = 3
#: rehearsal: batch size, corrections checked per step, and steps per idle period
REHEARSE_BATCH = 24
REHEARSE_CHECK = 128
REHEARSE_STEPS = 400
#: the control weights learn this much slower than the LoRA pairs: what the person taught must
#: not hinge on the mood the control vector carries at the time (it drifts as signals decay)
CONTROL_LR_SCALE = 0.1
_STOP = object()


class OnlineLearner:
    """Applies signals to a graph's adapters; `learn_one` queues, `learn_now` applies at once."""

    def __init__(
        self,
        graph: Graph,
        config: OnlineConfig,
        *,
        state: OnlineState | None = None,
        seed: int = 0,
        on_learned: Callable[[LearnReport], None] | None = None,
    ) -> None:
        self.config = config
        half_life_s = config.half_life_hours * 3600.0
        self.gate = ModelGate()
        self.replay = ReplayBuffer(half_life_s)
        self.control = ControlState(half_life_s=half_life_s)
        self.on_learned = on_learned
        self.updates = 0
        self.last_error: str | None = None
        self._rng = random.Random(seed)
        self._queue: queue.Queue[object] = queue.Queue()
        self._cond = threading.Condition()
        self._pending = 0
        self._rehearsing = False
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._state = state
        if state is not None and (saved := state.load_control()):
            self.control = ControlState.from_dict(saved, half_life_s)
        self.graph = graph
        self.set_graph(graph, state)

    # ------------------------------------------------------------------------- model
    def set_graph(self, graph: Graph, state: OnlineState | None = None) -> None:
        """Train `graph`'s adapters from now on (between replies); load its saved adapters."""
        with self.gate.training():
            for p in graph.parameters():
                p.requires_grad_(False)
            params = graph.adapter_parameters()
            for p in params:
                p.requires_grad_(True)
            self.graph = graph
            self._state = state if state is not None else self._state
            info = state.load(graph) if state is not None else None
            self.updates = int(info.get("updates", 0)) if info else 0
            scales = [CONTROL_LR_SCALE if p is graph.control else 1.0 for p in params]
            self._opt = Adam(params, lr=self.config.lr, lr_scale=scales) if params else None
            self.replay.clear_refs()
        self._wake_rehearsal()

    def control_vector(self) -> torch.Tensor | None:
        """Return the current control vector [C] (None when the graph has no control input)."""
        if not self.graph.control_size:
            return None
        vec = self.control.vector()[: self.graph.control_size]
        return torch.tensor(vec, dtype=torch.float32)  # [C]

    def remember(self, items: Sequence[Item]) -> None:
        """Put past signals into the replay buffer (and rehearse them when idle)."""
        for item in items:
            self.replay.add(item)
        self._wake_rehearsal()

    # ------------------------------------------------------------------------- signals
    def _step(self, items: Sequence[Item], weights: Sequence[float]) -> tuple[float, bool]:
        """Take one optimiser step on a batch; return its loss (before) and if all were learned."""
        assert self._opt is not None
        fill_reference(self.graph, items)
        loss, learned = batch_loss(self.graph, items, self.control_vector(), weights)
        self._opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.graph.adapter_parameters(), 1.0)
        self._opt.step()
        return float(loss.detach()), bool(learned.all())

    @torch.no_grad()
    def _loss(self, items: Sequence[Item], weights: Sequence[float]) -> tuple[float, torch.Tensor]:
        """Return a batch's loss and which of its items are learned, without a step."""
        fill_reference(self.graph, items)
        loss, learned = batch_loss(self.graph, items, self.control_vector(), weights)
        return float(loss), learned

    def learn_now(self, sig: Signal) -> LearnReport:
        """Apply one signal at once (in the caller's thread) and return what it did.

        1. Move the control state; turn the signal into replay items (none: report 0 steps).
        2. Draw a replay sample (decayed weights) to go with the new items: one fixed batch.
        3. Measure the new items' loss; step until `config.steps` steps are done and the batch's
           wanted replies are learned, at most MAX_STEP_FACTOR times that, within
           SIGNAL_BUDGET_S (at least one step).
        4. Measure the new items' loss again; remember them; rehearse later.
        """
        observe(self.control, sig)
        new = signal_items(sig, int(self.graph.genome.get("context", 256)))
        if not new or self._opt is None or not self.config.enabled:
            return LearnReport(sig.kind, sig.message_id, 0, 0.0, 0.0, 0.0)
        keys = {i.key for i in new}
        start = time.perf_counter()
        now = time.time()
        batch = new + [i for i in self.replay.sample(self.config.replay, self._rng, now)
                       if i.key not in keys]
        weights = [i.weight if i in new else i.decayed_weight(now, self.replay.half_life_s)
                   for i in batch]
        unit = [1.0] * len(new)
        with self.gate.training():
            before, _ = self._loss(new, unit)
        steps = 0
        limit = self.config.steps * MAX_STEP_FACTOR
        while steps < limit:
            with self.gate.training():
                _, learned = self._step(batch, weights)
            steps += 1
            elapsed = time.perf_counter() - start
            if elapsed * (steps + 1) / steps > SIGNAL_BUDGET_S:
                break  # another step of the same length would overrun the budget
            if steps >= self.config.steps and learned:
                break
        with self.gate.training():
            after, _ = self._loss(new, unit)
        millis = (time.perf_counter() - start) * 1000.0
        for item in new:
            self.replay.add(item)
        self.updates += 1
        self._wake_rehearsal()
        return LearnReport(sig.kind, sig.message_id, steps, millis, before, after)

    # ------------------------------------------------------------------------- rehearsal
    def rehearse_step(self) -> bool:
        """Take one step on corrections not yet learned (plus a replay sample); False when none.

        1. Check the newest corrections (teacher-forced: greedy decoding would reproduce them).
        2. Batch the unlearned ones with a decay-weighted replay sample and take one step.
        """
        if self._opt is None or not self.config.enabled:
            return False
        wanted = [i for i in self.replay.items(POSITIVE) if i.key.startswith("ex:")]
        wanted = wanted[-REHEARSE_CHECK:]
        if not wanted:
            return False
        now = time.time()
        with self.gate.training():
            _, learned = self._loss(wanted, [1.0] * len(wanted))
            todo = [i for i, ok in zip(wanted, learned.tolist(), strict=True) if not ok]
            if not todo:
                return False
            todo = todo[:REHEARSE_BATCH // 2]
            keys = {i.key for i in todo}
            batch = todo + [i for i in self.replay.sample(REHEARSE_BATCH, self._rng, now)
                            if i.key not in keys][: REHEARSE_BATCH - len(todo)]
            self._step(batch, [i.decayed_weight(now, self.replay.half_life_s) for i in batch])
        return True

    def rehearse(self, max_steps: int = REHEARSE_STEPS, max_seconds: float = 30.0) -> int:
        """Rehearse in the caller's thread until done or out of budget; return the steps taken."""
        deadline = time.monotonic() + max_seconds
        steps = 0
        while steps < max_steps and time.monotonic() < deadline and self.rehearse_step():
            steps += 1
        return steps

    def _wake_rehearsal(self) -> None:
        """Mark that rehearsal may have work (the worker runs it when no signal waits)."""
        with self._cond:
            self._rehearsing = True
            self._cond.notify_all()
        if self._thread is not None:
            self._queue.put(None)  # wake the worker

    # ------------------------------------------------------------------------- worker
    def learn_one(self, sig: Signal) -> None:
        """Queue a signal for the worker thread (started on first use) and return at once."""
        with self._cond:
            if self._stopping:
                raise RuntimeError("the online learner is closed")
            self._pending += 1
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="insitu-online",
                                                daemon=True)
                self._thread.start()
        self._queue.put(sig)

    def _run(self) -> None:
        """The worker loop.

        1. Take the next signal; apply it, record it, report it (errors are kept, not raised).
        2. With no signal waiting, take rehearsal steps one at a time (a reply goes first).
        3. When rehearsal is done, save the adapters and control state, and wake waiters.
        """
        self._warm_up()
        while True:
            try:
                sig = self._queue.get(block=not self._rehearsing)
            except queue.Empty:
                sig = None
            if sig is _STOP:
                return
            if isinstance(sig, Signal):
                self._apply(sig)
                continue
            if self._rehearsing and not self._stopping:
                try:
                    more = self.rehearse_step()
                except Exception as exc:  # keep chatting even if learning breaks
                    self._fail(exc)
                    more = False
                if more:
                    continue
            self.save()
            with self._cond:
                self._rehearsing = False
                self._cond.notify_all()

    def _warm_up(self) -> None:
        """Run one forward and backward pass without a step, so the first signal is fast."""
        if self._opt is None:
            return
        item = Item("warm-up", encode_pair("", "", 16), POSITIVE, 1.0, 0.0)
        try:
            with self.gate.training():
                loss, _ = batch_loss(self.graph, [item], self.control_vector(), [1.0])
                loss.backward()
                self._opt.zero_grad()
        except Exception as exc:  # a broken graph shows up on the first signal instead
            log.warning("online warm-up failed: %s", exc)

    def _apply(self, sig: Signal) -> None:
        """Apply one queued signal, then report and record it."""
        report = None
        try:
            report = self.learn_now(sig)
            if self._state is not None and report.steps:
                self._state.record(report)
        except Exception as exc:  # keep chatting even if learning breaks
            self._fail(exc)
        with self._cond:
            self._pending -= 1
            self._cond.notify_all()
        if report is not None and self.on_learned is not None:
            try:
                self.on_learned(report)
            except Exception as exc:  # a broken callback must not stop learning
                log.warning("on_learned callback failed: %s", exc)

    def _fail(self, exc: Exception) -> None:
        """Keep the error for the UI to show, and log it."""
        self.last_error = f"{type(exc).__name__}: {exc}"
        log.exception("online learning failed")

    def wait_idle(self, timeout: float | None = None, rehearsal: bool = True) -> bool:
        """Wait until queued signals (and, by default, rehearsal) are done; False on timeout."""
        def idle() -> bool:
            return not self._pending and not (rehearsal and self._rehearsing and self._thread)

        with self._cond:
            return self._cond.wait_for(idle, timeout)

    def save(self) -> None:
        """Persist the adapters and control state to the profile (no-op without a state)."""
        if self._state is None:
            return
        try:
            info = {"updates": self.updates, "replay": len(self.replay)}
            self._state.save(self.graph, info, self.control.to_dict())
        except Exception as exc:  # a full disk must not stop the chat
            self._fail(exc)

    def close(self, timeout: float = 30.0) -> None:
        """Finish queued signals, stop rehearsing, stop the worker and save."""
        self.wait_idle(timeout, rehearsal=False)
        with self._cond:
            self._stopping = True
            self._rehearsing = False
        if self._thread is not None:
            self._queue.put(_STOP)
            self._thread.join(timeout)
            self._thread = None
        self.save()
