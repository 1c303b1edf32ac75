"""A teacher that is another local profile's champion, called in-process (no HTTP)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, ClassVar

from harness.errors import InsituError, TeacherError
from teachers.base import Capabilities, Reply, Request, Teacher

if TYPE_CHECKING:
    from teachers.config import TeacherConfig

MAX_REPLY_TOKENS = 512


class InsituTeacher(Teacher):
    """The champion of another profile: it answers prompts (distillation), it writes no JSON."""

    kind: ClassVar[str] = "insitu"
    defaults: ClassVar[Capabilities] = Capabilities(json_schema=False, instruct=False)

    def __init__(self, config: TeacherConfig, **kwargs: Any) -> None:
        super().__init__(config, **kwargs)
        from harness.profile import Profile
        from harness.serve.engine import ChampionModel

        name = config.profile_name or ""
        try:
            self._profile = Profile.open(name, create_default=False)
        except InsituError as exc:
            raise TeacherError(f"teacher '{config.name}': {exc.message}", exc.hint) from None
        try:
            self._model = ChampionModel.load(self._profile)
        except InsituError as exc:
            self._profile.close()
            raise TeacherError(f"teacher '{config.name}': {exc.message}", exc.hint) from None

    def where(self) -> str:
        return f"profile '{self.config.profile_name}'"

    def close(self) -> None:
        self._profile.close()

    def _request(self, request: Request) -> Reply:
        from harness.graph.generate import Sampling
        from harness.serve.engine import parse_messages

        cfg = self.config
        gen_cfg = self._profile.config.generation
        max_tokens = min(request.max_tokens or cfg.max_tokens, MAX_REPLY_TOKENS)
        sampling = Sampling(
            temperature=cfg.temperature if request.temperature is None else request.temperature,
            top_k=gen_cfg.top_k, top_p=gen_cfg.top_p, max_tokens=max_tokens,
        )  # fmt: skip
        start = time.monotonic()
        try:
            messages = parse_messages(request.messages)
        except InsituError as exc:
            raise TeacherError(f"teacher '{cfg.name}' cannot read the request: {exc.message}",
                               exc.hint) from None
        tokens = self._model.prompt_tokens(messages, max_tokens)
        gen = self._model.generate(tokens, sampling)
        return Reply(text=gen.text, model=f"{cfg.profile_name}/{self._model.individual_id}",
                     prompt_tokens=gen.prompt_tokens, completion_tokens=gen.completion_tokens,
                     cost=0.0, latency_s=time.monotonic() - start,
                     finish_reason=gen.finish_reason, insitu=True)  # fmt: skip
