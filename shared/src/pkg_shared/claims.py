"""The paper's claims as data, judged on numbers measured in this run.

A :class:`Claim` names one measured value (``metric``), the paper's words and where they stand, and how
the value is judged: a comparison (``>=``, ``>``, ``<=``, ``<``, ``==``) against ``value``, or
``within`` ``tol`` of ``value``. A claim that needs a larger ``scale`` than the run's, or whose value the
experiment reports as :class:`NotRun` (its real data absent, say), is *not run*: ``holds`` is None.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

SCALES = ("smoke", "small", "full")
_OPS = {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt, "==": operator.eq}


@dataclass(frozen=True)
class NotRun:
    """A measured value that could not be measured in this run, with the reason (and what to do)."""

    reason: str


@dataclass(frozen=True)
class Claim:
    """One claim of the paper and the rule that judges it.

    ``id``: short stable name; ``text``: the paper's words in short; ``where``: table/figure/section;
    ``paper_value``: the paper's number or phrase; ``metric``: key of the measured values; ``op`` and
    ``value`` (and ``tol`` for ``within``): the judging rule; ``scale``: the smallest scale it is judged at.
    """

    id: str
    text: str
    where: str
    metric: str
    op: str
    value: float | bool
    tol: float | None = None
    paper_value: float | str | None = None
    scale: str = "smoke"

    def __post_init__(self) -> None:
        if self.op not in (*_OPS, "within"):
            raise ValueError(f"claim {self.id}: unknown op {self.op!r}")
        if (self.op == "within") != (self.tol is not None):
            raise ValueError(f"claim {self.id}: 'within' needs tol, and only 'within' takes it")
        if self.scale not in SCALES:
            raise ValueError(f"claim {self.id}: scale must be one of {SCALES}")

    @property
    def rule(self) -> str:
        """The judging rule in words, e.g. ``ln_gap >= -0.5`` or ``|acc - 98.8| <= 1.5``."""
        if self.op == "within":
            return f"|{self.metric} - {self.value}| <= {self.tol}"
        return f"{self.metric} {self.op} {self.value}"

    def judge(self, measured: Mapping[str, Any], scale: str) -> ClaimResult:
        """Judge this claim on ``measured`` (the run's values) at ``scale``."""
        value = measured.get(self.metric)
        holds, note = None, ""
        if SCALES.index(scale) < SCALES.index(self.scale):
            note = f"needs --scale {self.scale}"
            value = None
        elif isinstance(value, NotRun):
            note, value = value.reason, None
        elif value is None:
            note = f"'{self.metric}' was not measured"
        elif isinstance(value, float) and math.isnan(value):
            holds, note = False, "measured NaN"
        elif self.op == "within":
            holds = bool(abs(value - self.value) <= self.tol)
        else:
            holds = bool(_OPS[self.op](value, self.value))
        return ClaimResult(self.id, self.text, self.where, self.paper_value, value, holds, self.rule, note)


@dataclass(frozen=True)
class ClaimResult:
    """A judged claim: ``holds`` is True, False, or None (not run; ``note`` says why)."""

    id: str
    text: str
    where: str
    paper_value: float | str | None
    measured: Any
    holds: bool | None
    rule: str
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def aggregate(per_seed: Sequence[Mapping[str, Any]]) -> tuple[dict[str, Any], dict[str, float]]:
    """Combine one dict of measured values per seed into ``(means, standard deviations)``.

    Numbers are averaged (population std beside them), booleans must hold for every seed, a
    :class:`NotRun` in any seed stays not run, and other values (curves, tables) keep the first seed's.
    """
    means: dict[str, Any] = {}
    spread: dict[str, float] = {}
    keys = dict.fromkeys(k for row in per_seed for k in row)
    for key in keys:
        values = [row.get(key) for row in per_seed]
        not_run = next((v for v in values if isinstance(v, NotRun)), None)
        if not_run is not None:
            means[key] = not_run
        elif all(isinstance(v, bool) for v in values):
            means[key] = all(values)
        elif all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            mean = sum(values) / len(values)
            means[key] = mean
            spread[key] = math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))
        else:
            means[key] = values[0]
    return means, spread


def judge_claims(claims: Sequence[Claim], measured: Mapping[str, Any], scale: str) -> list[ClaimResult]:
    """Judge every claim; see :meth:`Claim.judge`."""
    return [c.judge(measured, scale) for c in claims]


def _fmt(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def format_table(results: Sequence[ClaimResult]) -> str:
    """The ``claim | paper | measured | holds`` table printed by ``reproduce``."""
    rows = [("claim", "paper", "measured", "holds", "rule / note")]
    for r in results:
        holds = {True: "yes", False: "NO", None: "not run"}[r.holds]
        rows.append((f"{r.id} ({r.where})", _fmt(r.paper_value), _fmt(r.measured), holds, r.note or r.rule))
    widths = [min(max(len(row[i]) for row in rows), 48) for i in range(4)]
    lines = []
    for n, row in enumerate(rows):
        cells = [row[i][: widths[i]].ljust(widths[i]) for i in range(4)]
        lines.append(" | ".join(cells) + " | " + row[4])
        if n == 0:
            lines.append("-+-".join("-" * w for w in widths) + "-+-" + "-" * len(row[4]))
    counts = summarize(results)
    lines.append(f"{counts['hold']} hold, {counts['fail']} do not, {counts['not_run']} not run")
    return "\n".join(lines)


def summarize(results: Sequence[ClaimResult]) -> dict[str, int]:
    """Counts of claims that hold, fail and were not run."""
    return {
        "hold": sum(r.holds is True for r in results),
        "fail": sum(r.holds is False for r in results),
        "not_run": sum(r.holds is None for r in results),
    }
