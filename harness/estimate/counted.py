"""Method 1 from the harness's own count: one counted training step scaled to the whole run.

Pure arithmetic on numbers: the counting happens elsewhere (`harness.zoo_compute` counts one
step of a zoo model on the meta device and passes a `StepCount` in). The parts of a run's
training compute, each shown apart (`Part`):

* gradient steps: (forward + backward + optimizer FLOP of one step) / (batch x seq) per token,
  x tokens; or / batch per example, x examples x epochs; or x optimizer steps where only the
  step count is known. The optimizer's share is left out (and said) where the run's batch is not
  known, since a step at another batch would put the wrong number of updates in it;
* self-play (Silver et al. 2017, 2018): games x moves per game x MCTS simulations per move x one
  network forward of one position;
* rollouts (DQN, CURL, OpenAI Five, GOAT): environment or agent steps x one policy forward;
* architecture search (Zoph & Le 2017): child networks x epochs x examples x the child's counted
  training FLOP per example.

Beside the counted figure, the closed form Epoch AI's method 1 would give from parameters alone
(6 N D for tokens, 2 x connections x 3 x examples x epochs otherwise, with the parameters as
connections and only the active parameters of a mixture of experts), and their ratio: what
weight sharing (convolutions, recurrence) or attention adds to, or sparsity takes from, 6ND.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from harness.estimate.runs import TrainingRun

__all__ = ["CountedEstimate", "Part", "StepCount", "closed_form", "counted_basis", "counted_estimate", "gradient_steps"]


@dataclass(frozen=True)
class StepCount:
    """The counted FLOP of one training step of `batch` examples (each of `seq_len` tokens, or
    None for a model without a sequence), by phase, and of one forward of a single example
    (`single_forward_flop`: one position for self-play, one policy step for rollouts)."""

    forward_flop: float
    backward_flop: float
    optimizer_flop: float
    batch: int
    seq_len: int | None = None
    single_forward_flop: float | None = None
    optimizer: str | None = None  # the optimizer whose per-parameter cost the step used

    @property
    def units(self) -> int:
        """Examples (or tokens, for a sequence model) in the counted step."""
        return self.batch * (self.seq_len or 1)


@dataclass(frozen=True)
class Part:
    """One part of a run's training compute: FLOP and the arithmetic that gave them."""

    name: str  # "gradient steps" | "self-play" | "rollouts" | "architecture search"
    flop: float
    formula: str  # the arithmetic, with the numbers


@dataclass(frozen=True)
class CountedEstimate:
    """Counted training compute of one run: its parts, the closed form and their ratio."""

    name: str
    flop: float  # sum of the parts
    parts: tuple[Part, ...]
    per_unit_flop: float  # counted training FLOP per token (or per example)
    per_unit: str  # "token" | "example"
    phases_per_unit: dict[str, float]  # forward, backward, optimizer FLOP per token or example
    closed_form_flop: float | None
    closed_form: str  # the closed form's formula, with its numbers
    notes: tuple[str, ...] = ()

    @property
    def ratio_to_closed_form(self) -> float | None:
        """Counted gradient-step FLOP / the closed form (weight sharing and attention show here)."""
        grad = self.part("gradient steps")
        if grad is None or not self.closed_form_flop:
            return None
        return grad.flop / self.closed_form_flop

    def part(self, name: str) -> Part | None:
        return next((p for p in self.parts if p.name == name), None)


def _g(x: float) -> str:
    return f"{x:.4g}"


def closed_form(run: TrainingRun, params: float) -> tuple[float | None, str]:
    """Epoch's method 1 from parameters: 6 N D with tokens, else 2 x N x 3 x examples x epochs.

    N is the active parameters of a mixture of experts where the run records them (Switch,
    GShard), else `params`. Gradient-step tokens or examples only: self-play and rollouts are
    not in it."""
    n = run.moe.active_parameters if run.moe is not None and run.moe.active_parameters else params
    label = "N_active" if n is not params else "N"
    copies = f" x {run.models} models" if run.models > 1 else ""
    tokens = run.tokens_or_examples if run.stages else run.tokens
    if tokens is not None:
        return 6 * n * tokens * run.models, f"6 x {label} x D = 6 x {_g(n)} x {_g(tokens)}{copies}"
    examples = _examples(run)
    if examples is not None:
        return (6 * n * examples * run.models,
                f"2 x {label} x 3 x examples = 6 x {_g(n)} x {_g(examples)}{copies}")
    return None, "no tokens or examples recorded"


def _examples(run: TrainingRun) -> float | None:
    """Examples seen by the gradient steps: examples x epochs, else optimizer steps x batch."""
    if run.examples is not None:
        return run.examples * (run.epochs or 1.0)
    if run.steps is not None and run.batch_size is not None:
        return run.steps * run.batch_size
    return None


def _staged(run: TrainingRun, stage_steps: Sequence[StepCount]) -> tuple[Part, float, str, dict[str, float], list[str]]:
    """Gradient steps of a run in stages: the sum over stages of steps x one counted step."""
    phases = {"forward": 0.0, "backward": 0.0, "optimizer": 0.0}
    terms, units = [], 0.0
    for st, count in zip(run.stages, stage_steps, strict=True):
        phases["forward"] += st.steps * count.forward_flop
        phases["backward"] += st.steps * count.backward_flop
        phases["optimizer"] += st.steps * count.optimizer_flop
        units += st.steps * count.units
        terms.append(f"{_g(st.steps)} steps x {_g(count.forward_flop + count.backward_flop + count.optimizer_flop)} "
                     f"FLOP/step (batch {st.batch_size}{f' x {st.seq_len}' if st.seq_len else ''})")
    total = sum(phases.values())
    unit = "token" if stage_steps[0].seq_len else "example"
    copies = f", x {run.models} models" if run.models > 1 else ""
    part = Part("gradient steps", total * run.models, " + ".join(terms) + copies)
    notes = [] if stage_steps[0].optimizer else ["optimizer step not counted: the paper's optimizer has no per-parameter cost in the table"]
    return part, total / units, unit, {k: v / units for k, v in phases.items()}, notes


def gradient_steps(run: TrainingRun, step: StepCount, stage_steps: Sequence[StepCount] = ()
                   ) -> tuple[Part | None, float, str, dict[str, float], list[str]]:
    """The gradient-step part: (part or None, FLOP per unit, unit, per-phase FLOP per unit, notes).

    With `run.stages`, `stage_steps` holds one counted step per stage, in order."""
    if run.stages:
        return _staged(run, stage_steps)
    notes: list[str] = []
    unit = "token" if run.tokens is not None and step.seq_len else "example"
    per = step.units if unit == "token" else step.batch
    phases = {"forward": step.forward_flop / per, "backward": step.backward_flop / per,
              "optimizer": step.optimizer_flop / per}
    if run.batch_size is None or step.batch != run.batch_size:
        phases["optimizer"] = 0.0
        notes.append("optimizer step left out: the run's batch is not known, so neither is its number of updates"
                     if run.batch_size is None else
                     f"optimizer step left out: counted at batch {step.batch}, the run's is {run.batch_size}")
    elif step.optimizer is None:
        notes.append("optimizer step not counted: the paper's optimizer has no per-parameter cost in the table")
    per_unit = sum(phases.values())
    k = run.models
    copies = f" x {k} models" if k > 1 else ""
    if unit == "token":
        assert run.tokens is not None
        return (Part("gradient steps", per_unit * run.tokens * k,
                     f"{_g(per_unit)} FLOP/token x {_g(run.tokens)} tokens{copies}"), per_unit, unit, phases, notes)
    if run.examples is not None:
        epochs = run.epochs or 1.0
        if run.epochs is None:
            notes.append("epochs not stated: one pass assumed")
        return (Part("gradient steps", per_unit * run.examples * epochs * k,
                     f"{_g(per_unit)} FLOP/example x {_g(run.examples)} examples x {_g(epochs)} epochs{copies}"),
                per_unit, unit, phases, notes)
    if run.steps is not None and run.batch_size is not None:
        return (Part("gradient steps", per_unit * run.steps * run.batch_size * k,
                     f"{_g(per_unit)} FLOP/example x {_g(run.steps)} steps x {run.batch_size} per step{copies}"),
                per_unit, unit, phases, notes)
    notes.append("no tokens, examples or optimizer steps recorded: gradient steps not estimated")
    return None, per_unit, unit, phases, notes


def counted_estimate(run: TrainingRun, step: StepCount, params: float,
                     stage_steps: Sequence[StepCount] = (), child_step: StepCount | None = None) -> CountedEstimate:
    """The run's training compute from its counted step: every part apart, the closed form beside.

    `params` are the published parameters (the closed form's N; a mixture of experts' active
    parameters come from `run.moe`); `stage_steps` one counted step per `run.stages`;
    `child_step` a step of the search's typical child (`run.search.child_entry`), else the
    run's own network stands for it."""
    grad, per_unit, unit, phases, notes = gradient_steps(run, step, stage_steps)
    parts = [grad] if grad is not None else []
    fwd = step.single_forward_flop
    for label, figure in (("self-play", run.self_play), ("rollouts", run.rollouts), ("architecture search", run.search)):
        if figure is not None and fwd is None and label != "architecture search":
            notes.append(f"{label} recorded but no single forward counted: left out")
    if run.self_play is not None and fwd is not None:
        sp = run.self_play
        parts.append(Part("self-play", sp.games * sp.moves_per_game * sp.simulations_per_move * fwd,
                          f"{_g(sp.games)} games x {_g(sp.moves_per_game)} moves x "
                          f"{_g(sp.simulations_per_move)} simulations x {_g(fwd)} FLOP/forward"))
    if run.rollouts is not None and fwd is not None:
        parts.append(Part("rollouts", run.rollouts.env_steps * fwd,
                          f"{_g(run.rollouts.env_steps)} steps x {_g(fwd)} FLOP/forward"))
    if run.search is not None:
        s = run.search
        per_example = sum(phases.values()) if child_step is None else (
            (child_step.forward_flop + child_step.backward_flop + child_step.optimizer_flop) / child_step.batch)
        parts.append(Part("architecture search", s.child_networks * s.epochs * s.examples * per_example,
                          f"{_g(s.child_networks)} children x {_g(s.epochs)} epochs x {_g(s.examples)} examples x "
                          f"{_g(per_example)} FLOP/example"))
    if run.fine_tune is not None:
        ft = run.fine_tune
        notes.append(f"fine-tune of {ft.base_model}: the base model's pre-training is "
                     f"{'included' if ft.includes_base else 'not included'} in the figure")
    cf, cf_text = closed_form(run, params)
    return CountedEstimate(run.name, sum(p.flop for p in parts), tuple(parts), per_unit, unit, phases,
                           cf, cf_text, tuple(notes))


def counted_basis(c: CountedEstimate) -> str:
    """One line: the parts with their arithmetic, the closed form and the ratio to it."""
    parts = "; ".join(f"{p.name} {p.flop:.3g} ({p.formula})" for p in c.parts) or "no part estimated"
    ratio = c.ratio_to_closed_form
    closed = (f"closed form {c.closed_form_flop:.3g} ({c.closed_form}), counted steps / closed form = {ratio:.3g}"
              if c.closed_form_flop and ratio is not None else f"closed form: {c.closed_form}")
    return f"counted on meta: {parts}; {closed}"
