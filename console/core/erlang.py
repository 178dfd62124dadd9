"""Erlang C: how a live queue should behave with N agents, for the wallboard's staffing what-if.

The model is M/M/N (Poisson arrivals at rate λ, exponential handle times of mean h, N agents, one queue,
nobody gives up). With the offered load A = λ·h in Erlangs:

    P(wait) = C(N, A) = (A^N / N!) · N/(N−A)  /  ( Σ_{k=0}^{N−1} A^k/k!  +  (A^N / N!) · N/(N−A) )
    service level SL(t) = P(answered within t) = 1 − C(N, A) · e^(−(N−A)·t/h)
    average speed of answer ASA = C(N, A) · h / (N − A)
    occupancy = A / N

valid only when N > A (otherwise the queue grows without bound: SL 0, ASA infinite).

C(N, A) is computed from the Erlang B recursion B(0) = 1, B(n) = A·B(n−1) / (n + A·B(n−1)) and
C = N·B / (N − A·(1 − B)): it never forms A^N or N!, so it stays exact for hundreds of agents where the
textbook form overflows. Because nobody abandons in the model, it overstates waits when callers do hang up;
that is the usual, conservative reading of a staffing estimate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


def erlang_b(agents: int, load: float) -> float:
    """Blocking probability of Erlang B with `agents` servers and `load` Erlangs (recursive form)."""
    if agents < 0 or load < 0:
        raise ValueError("agents and load must not be negative")
    blocking = 1.0
    for n in range(1, agents + 1):
        blocking = load * blocking / (n + load * blocking)
    return blocking


def erlang_c(agents: int, load: float) -> float:
    """Probability that a contact waits at all. 1.0 when the agents cannot keep up (N ≤ A)."""
    if agents <= 0 or load >= agents:
        return 1.0
    if load <= 0:
        return 0.0
    blocking = erlang_b(agents, load)
    return agents * blocking / (agents - load * (1.0 - blocking))


def service_level(agents: int, load: float, handle_seconds: float, target_seconds: float) -> float:
    """Share of contacts answered within `target_seconds`: 1 − C·e^(−(N−A)·t/h)."""
    if agents <= 0 or load >= agents:
        return 0.0
    if load <= 0 or handle_seconds <= 0:
        return 1.0
    waits = erlang_c(agents, load)
    return max(0.0, 1.0 - waits * math.exp(-(agents - load) * target_seconds / handle_seconds))


def average_speed_of_answer(agents: int, load: float, handle_seconds: float) -> float:
    """Mean wait over all contacts (those answered at once count as 0): C·h/(N−A). Infinite if overloaded."""
    if agents <= 0 or load >= agents:
        return math.inf
    if load <= 0:
        return 0.0
    return erlang_c(agents, load) * handle_seconds / (agents - load)


@dataclass(frozen=True, slots=True)
class Estimate:
    """What Erlang C predicts with `agents` agents."""

    agents: int
    load: float
    wait_probability: float
    service_level: float
    asa: float  # seconds; math.inf when overloaded
    occupancy: float

    @property
    def overloaded(self) -> bool:
        return self.load >= self.agents


def estimate(
    agents: int, arrivals_per_second: float, handle_seconds: float, target_seconds: float
) -> Estimate:
    load = max(0.0, arrivals_per_second * handle_seconds)
    return Estimate(
        agents=agents,
        load=load,
        wait_probability=erlang_c(agents, load),
        service_level=service_level(agents, load, handle_seconds, target_seconds),
        asa=average_speed_of_answer(agents, load, handle_seconds),
        occupancy=min(1.0, load / agents) if agents > 0 else 1.0,
    )


def agents_needed(
    arrivals_per_second: float,
    handle_seconds: float,
    target_seconds: float,
    goal: float,
    *,
    limit: int = 10_000,
) -> int | None:
    """The fewest agents whose predicted service level reaches `goal` (0..1), or None beyond `limit`."""
    load = arrivals_per_second * handle_seconds
    if load <= 0:
        return 0
    agents = max(1, math.floor(load) + 1)
    while agents <= limit:
        if service_level(agents, load, handle_seconds, target_seconds) >= goal:
            return agents
        agents += 1
    return None
