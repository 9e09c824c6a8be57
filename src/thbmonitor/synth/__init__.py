"""The synthetic Netherlands: a population of victims with registrations, a police register and
the ground truth every later stage can be checked against (``thbmonitor synth``)."""

from __future__ import annotations

from thbmonitor.synth.params import WorldParams
from thbmonitor.synth.world import ProgressCallback, WorldSummary, generate

__all__ = ["ProgressCallback", "WorldParams", "WorldSummary", "generate"]
