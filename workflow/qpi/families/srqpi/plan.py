"""DL-SRQPI's run planning: each stack's label, the corrected stack a condition's inputs are cut
from, the LR planes of its TIE baselines and the sweeps' score files."""

from __future__ import annotations

from qpi.core import paths
from qpi.families.srqpi import condition_reimaged


def label(block: dict, stack: str, simulated: bool) -> str:
    """Training label: the simulation's exact phase (as the paper's simulated study), or the TIE
    phase (as its experiments, and always for user stacks, which have no exact phase)."""
    if block["label"] == "exact" and simulated:
        return paths.fill(paths.STACK["truth_phase"], stack=stack)
    return paths.fill(paths.STACK["tie"], stack=stack)


def baseline_planes(block: dict, sheet_row: dict | None):
    """LR planes of the TIE baselines: `baseline_planes_um` for simulated stacks, a user stack's own
    TIE planes (its sheet's `tie_planes_um`, else every plane it has: None)."""
    return block["baseline_planes_um"] if sheet_row is None else sheet_row.get("tie_planes_um")


def corrected(block: dict, condition: str, stack: str, microscope_coherence: float, user: bool) -> str:
    """The corrected stack a condition's inputs are cut from: the shared one, or its own re-imaging
    (a condition with a coherence of its own; only simulated stacks can be re-imaged)."""
    if not condition_reimaged(block, condition, microscope_coherence):
        return paths.fill(paths.STACK["corrected"], stack=stack)
    if user:
        raise ValueError(
            f"srqpi condition {condition!r} sets its own coherence, which only simulated stacks can be imaged "
            f"at; user stack {stack!r} cannot: drop the condition's `coherence` or the stack"
        )
    return paths.fill(paths.SRQPI["corrected"], condition=condition, stack=stack)


def cross_scores(block: dict, networks: list[str]) -> list[str]:
    """Scores of the sweep networks trained on `networks` (each once), every seed."""
    sweeps = block["sweeps"]
    return [paths.fill(paths.SRQPI["cross"], condition=c, model=sweeps["model"], seed=s)
            for c in dict.fromkeys(networks) for s in sweeps["seeds"]]
