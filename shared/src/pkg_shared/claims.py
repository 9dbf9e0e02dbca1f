"""The paper's claims as data, judged on numbers measured in this run.

A :class:`Claim` names one measured value (``metric``), the words it stands for and where they stand, and
how the value is judged: a comparison (``>=``, ``>``, ``<=``, ``<``, ``==``) against ``value``, ``within``
``tol`` of ``value``, or ``in`` the closed range ``value = (low, high)``.

Three kinds of entry, so that a verdict means what the table says:

- ``paper``: a claim the paper makes, judged on measured numbers. Only these make the headline
  "N of M paper claims hold" and ``--strict``. A paper claim is never an upper bound on our own method's
  quality (an upper bound is fine for a cost: time, memory, parameters, calls, error).
- ``check``: a check of our own implementation (a metric's definition, a stub backend's arithmetic,
  equality with a reference library). Judged and printed in its own block, never counted as the paper's.
- ``expect``: an expected range printed beside its measured number, never judged (``holds`` is None;
  ``in_range`` says where the number fell, for information).

Every entry records its ``basis`` (``"paper number"``, ``"paper direction"``, ``"calibrated on seeds
100-102"``...), and ``post_hoc`` says what was changed after a claim was seen to fail; the table prints it
beside the verdict. A claim that needs a larger ``scale`` than the run's, or whose value the experiment
reports as :class:`NotRun` (its real data absent, say), is *not run*: ``holds`` is None.
"""

from __future__ import annotations

import math
import operator
import shutil
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

SCALES = ("smoke", "small", "full")
KINDS = ("paper", "check", "expect")
_OPS = {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt, "==": operator.eq}


@dataclass(frozen=True)
class NotRun:
    """A measured value that could not be measured in this run, with the reason (and what to do)."""

    reason: str


@dataclass(frozen=True)
class Claim:
    """One entry of the claims table and the rule that judges it.

    ``id``: short stable name; ``text``: the paper's words in short (or what the check verifies);
    ``where``: table/figure/section; ``paper_value``: the paper's number or phrase; ``metric``: key of the
    measured values; ``op`` and ``value`` (``tol`` for ``within``; ``(low, high)`` for ``in``): the rule;
    ``scale``: the smallest scale it is judged at; ``kind``: ``paper``, ``check`` or ``expect``;
    ``basis``: where the threshold comes from; ``post_hoc``: what was changed after seeing a failure;
    ``dataset``: the data it is measured on where that differs from the run's ``--dataset``;
    ``deterministic``: the measurement does not depend on the seed (so one seed suffices).
    """

    id: str
    text: str
    where: str
    metric: str
    op: str
    value: float | bool | tuple[float, float]
    tol: float | None = None
    paper_value: float | str | None = None
    scale: str = "smoke"
    kind: str = "paper"
    basis: str = ""
    post_hoc: str = ""
    dataset: str | None = None
    deterministic: bool = False

    def __post_init__(self) -> None:
        if self.op not in (*_OPS, "within", "in"):
            raise ValueError(f"claim {self.id}: unknown op {self.op!r}")
        if (self.op == "within") != (self.tol is not None):
            raise ValueError(f"claim {self.id}: 'within' needs tol, and only 'within' takes it")
        if self.op == "in" and not (isinstance(self.value, tuple) and len(self.value) == 2):
            raise ValueError(f"claim {self.id}: 'in' needs value=(low, high)")
        if self.scale not in SCALES:
            raise ValueError(f"claim {self.id}: scale must be one of {SCALES}")
        if self.kind not in KINDS:
            raise ValueError(f"claim {self.id}: kind must be one of {KINDS}")

    @property
    def rule(self) -> str:
        """The rule in words, e.g. ``ln_gap >= -0.5``, ``|acc - 98.8| <= 1.5`` or ``auc in [0.74, 0.78]``."""
        if self.op == "within":
            return f"|{self.metric} - {self.value}| <= {self.tol}"
        if self.op == "in":
            low, high = self.value  # type: ignore[misc]
            return f"{self.metric} in [{low}, {high}]"
        return f"{self.metric} {self.op} {self.value}"

    def _passes(self, value: Any) -> bool:
        if self.op == "within":
            return bool(abs(value - self.value) <= self.tol)
        if self.op == "in":
            low, high = self.value  # type: ignore[misc]
            return bool(low <= value <= high)
        return bool(_OPS[self.op](value, self.value))

    def judge(
        self,
        measured: Mapping[str, Any],
        scale: str,
        spread: Mapping[str, float] | None = None,
        n: int = 1,
    ) -> ClaimResult:
        """Judge this claim on ``measured`` (the run's values, means over ``n`` seeds) at ``scale``."""
        value = measured.get(self.metric)
        holds, in_range, note = None, None, ""
        if SCALES.index(scale) < SCALES.index(self.scale):
            note = f"needs --scale {self.scale}"
            value = None
        elif isinstance(value, NotRun):
            note, value = value.reason, None
        elif value is None:
            note = f"'{self.metric}' was not measured"
        elif isinstance(value, float) and math.isnan(value):
            note = "measured NaN"
            holds = None if self.kind == "expect" else False
        elif self.kind == "expect":
            in_range = self._passes(value)
        else:
            holds = self._passes(value)
        std = (spread or {}).get(self.metric) if value is not None else None
        return ClaimResult(
            id=self.id,
            text=self.text,
            where=self.where,
            paper_value=self.paper_value,
            measured=value,
            holds=holds,
            rule=self.rule,
            note=note,
            kind=self.kind,
            basis=self.basis,
            post_hoc=self.post_hoc,
            dataset=self.dataset,
            std=std,
            n=n if value is not None else 0,
            in_range=in_range,
        )


@dataclass(frozen=True)
class ClaimResult:
    """A judged entry: ``holds`` is True, False, or None (not run, or an ``expect``; ``note`` says why)."""

    id: str
    text: str
    where: str
    paper_value: float | str | None
    measured: Any
    holds: bool | None
    rule: str
    note: str = ""
    kind: str = "paper"
    basis: str = ""
    post_hoc: str = ""
    dataset: str | None = None
    std: float | None = None
    n: int = 1
    in_range: bool | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def aggregate(per_seed: Sequence[Mapping[str, Any]]) -> tuple[dict[str, Any], dict[str, float]]:
    """Combine one dict of measured values per seed into ``(means, sample standard deviations)``.

    Numbers are averaged (the sample std, ddof=1, beside them; 0 for one seed), booleans must hold for
    every seed, a :class:`NotRun` in any seed stays not run, and other values (curves, tables) keep the
    first seed's.
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
            ddof = 1 if len(values) > 1 else 0
            spread[key] = math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - ddof))
        else:
            means[key] = values[0]
    return means, spread


def judge_claims(
    claims: Sequence[Claim],
    measured: Mapping[str, Any],
    scale: str,
    spread: Mapping[str, float] | None = None,
    n: int = 1,
) -> list[ClaimResult]:
    """Judge every claim; see :meth:`Claim.judge`."""
    return [c.judge(measured, scale, spread, n) for c in claims]


def fmt(v: Any) -> str:
    """A measured value as the table prints it."""
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, (list, tuple)) and len(v) == 2:
        return f"[{fmt(v[0])}, {fmt(v[1])}]"
    return str(v)


def measured_text(r: ClaimResult) -> str:
    """``mean ± std (n=3)`` for a number measured over several seeds, else the value alone."""
    if r.std is not None and r.n > 1 and isinstance(r.measured, (int, float)):
        return f"{fmt(r.measured)} ± {r.std:.2g} (n={r.n})"
    return fmt(r.measured)


def verdict(r: ClaimResult) -> str:
    """``holds`` / ``FAILS`` / ``not run`` for judged kinds; ``in range`` / ``outside`` for an ``expect``."""
    if r.kind == "expect":
        return {True: "in range", False: "outside", None: "not run"}[r.in_range]
    return {True: "holds", False: "FAILS", None: "not run"}[r.holds]


def _block(title: str, results: Sequence[ClaimResult], width: int) -> list[str]:
    """One block of the table: an entry per claim, long text wrapped (never cut)."""
    lines = [title]
    for r in results:
        lines += textwrap.wrap(
            f"[{verdict(r)}] {r.id} ({r.where})", width, initial_indent="  ", subsequent_indent="      "
        )
        body = [
            f"{r.text}",
            f"paper: {fmt(r.paper_value)} | measured: {measured_text(r)} | rule: {r.rule}",
        ]
        if r.dataset:
            body.append(f"dataset: {r.dataset}")
        if r.basis:
            body.append(f"basis: {r.basis}")
        if r.note:
            body.append(f"note: {r.note}")
        if r.post_hoc:
            body.append(f"POST HOC: {r.post_hoc}")
        for text in body:
            lines += textwrap.wrap(text, width=width, initial_indent="      ", subsequent_indent="        ")
    return lines


def format_table(results: Sequence[ClaimResult], header: str = "", width: int | None = None) -> str:
    """The printed claims table: paper claims, then our checks, then expected ranges, then the headline.

    ``header`` (dataset, scale, seeds, device) is printed first. Long text wraps at ``width`` (the
    terminal's width by default) instead of being cut.
    """
    width = width or max(60, min(shutil.get_terminal_size((110, 24)).columns, 140))
    lines = [header] if header else []
    for kind, title in (
        ("paper", "PAPER CLAIMS (judged on numbers measured in this run)"),
        ("check", "CHECKS of this implementation (not the paper's claims)"),
        ("expect", "EXPECTED RANGES (printed, never judged)"),
    ):
        chosen = [r for r in results if r.kind == kind]
        if chosen:
            lines += _block(title, chosen, width)
    lines += textwrap.wrap(headline(results), width)
    return "\n".join(lines)


def summarize(results: Sequence[ClaimResult]) -> dict[str, int]:
    """Counts by kind: paper claims that hold / fail / were not run, checks that pass / fail, expects."""
    paper = [r for r in results if r.kind == "paper"]
    checks = [r for r in results if r.kind == "check"]
    return {
        "paper": len(paper),
        "hold": sum(r.holds is True for r in paper),
        "fail": sum(r.holds is False for r in paper),
        "not_run": sum(r.holds is None for r in paper),
        "checks": len(checks),
        "checks_pass": sum(r.holds is True for r in checks),
        "checks_fail": sum(r.holds is False for r in checks),
        "expects": sum(r.kind == "expect" for r in results),
    }


def headline(results: Sequence[ClaimResult]) -> str:
    """``N of M paper claims hold (F fail, K not run); checks: P of C pass (...)``."""
    c = summarize(results)
    text = f"{c['hold']} of {c['paper']} paper claims hold ({c['fail']} fail, {c['not_run']} not run)"
    if c["checks"]:
        text += f"; checks: {c['checks_pass']} of {c['checks']} pass"
        if c["checks_fail"] or c["checks_pass"] < c["checks"]:
            text += f" ({c['checks_fail']} fail, {c['checks'] - c['checks_pass'] - c['checks_fail']} not run)"
    return text
