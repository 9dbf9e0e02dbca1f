"""The command line every package shares: ``info``, ``reproduce`` and the package's own commands.

A package builds one :class:`App` in its ``cli.py`` and registers its commands::

    app = App(slug="layernorm", paper=PAPER, claims=CLAIMS, reproduce=experiment.reproduce)

    @app.command("train", "train one model", arguments=add_train_arguments)
    def train(args): ...

    main = app.main

Exit codes: 0 done; 1 a claim failed under ``--strict``; 2 bad input (one line on stderr; ``--debug``
shows the traceback); 3 an internal error (a bug: rerun with ``--debug`` and report it); 130 interrupted.
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import os
import sys
import textwrap
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from .claims import SCALES, Claim, aggregate, format_table, headline, judge_claims, summarize
from .dataroot import data_root
from .errors import UserError
from .io import RunDir
from .progress import status

if TYPE_CHECKING:
    import torch

# Library errors that are certainly the user's (a path that is missing, unreadable or of the wrong kind):
# exit 2 like a UserError. Every other exception is a bug: exit 3.
USER_OS_ERRORS = (FileNotFoundError, IsADirectoryError, NotADirectoryError, PermissionError)


@dataclass(frozen=True)
class Paper:
    """The paper a package implements, for ``info`` and ``results.json``."""

    title: str
    authors: str
    venue: str
    arxiv: str
    bibtex: str
    implemented: Sequence[str] = ()
    datasets: Sequence[str] = ()


@dataclass
class RunContext:
    """What ``reproduce`` hands to a package's experiment for one seed."""

    scale: str
    seed: int
    device: torch.device
    run: RunDir
    data_dir: Path
    dataset: str | None
    """The ``--dataset`` choice; an experiment that resolves a choice (``auto``) sets the data it used here,
    and ``results.json`` records that."""
    quiet: bool = False
    seeds: list[int] = field(default_factory=list)
    options: dict[str, Any] = field(default_factory=dict)
    """The values of the package's own ``reproduce`` options (``App(reproduce_arguments=...)``)."""

    def log(self, **metrics: Any) -> None:
        """Append a row (tagged with this seed) to the run's ``metrics.jsonl``."""
        self.run.log(seed=self.seed, **metrics)

    def status(self, text: str) -> None:
        """One progress line on stderr (silent with ``--quiet``), tagged with the seed."""
        status(f"[seed {self.seed}] {text}", quiet=self.quiet)


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad command line as one line and exit code 2, and shows defaults."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


class _Formatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    """Keeps the description's line breaks and appends ``(default: ...)`` to every option's help."""


def _add_run_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    p.add_argument("--seed", type=nonnegative, default=0, help="random seed (the first one with --seeds)")
    p.add_argument(
        "--data-dir", default=None, help="data root (unset: $PKG_DATA_DIR, else ~/.cache/pkg-zoo/data)"
    )
    p.add_argument("--out", default="runs", help="folder for run folders")
    p.add_argument("--quiet", action="store_true", help="no progress output")


def _number(text: str, kind: type) -> int | float:
    try:
        value = kind(text)
    except ValueError:
        what = "a whole number" if kind is int else "a number"
        raise argparse.ArgumentTypeError(f"not {what}: {text!r}") from None
    if kind is float and value != value or value in (float("inf"), float("-inf")):
        raise argparse.ArgumentTypeError(f"must be finite, got {text!r}")
    return value


def bounded(kind: type = int, low: float | None = None, high: float | None = None) -> Callable[[str], Any]:
    """argparse ``type=`` for a number in ``[low, high]`` (either end open when None).

    A value outside is a one-line usage error naming the limit (exit 2), never a MemoryError later.
    """

    def parse(text: str) -> int | float:
        value = _number(text, kind)
        if low is not None and value < low:
            raise argparse.ArgumentTypeError(f"must be >= {low}, got {value}")
        if high is not None and value > high:
            raise argparse.ArgumentTypeError(f"must be <= {high}, got {value}")
        return value

    parse.__name__ = f"{kind.__name__} in [{low}, {high}]"
    return parse


def positive(text: str) -> int:
    """argparse ``type=`` for a whole number >= 1 (a bad value is a one-line usage error, exit 2)."""
    return bounded(int, 1)(text)


def nonnegative(text: str) -> int:
    """argparse ``type=`` for a whole number >= 0."""
    return bounded(int, 0)(text)


def resolve(target: Any) -> Any:
    """``"package.module:name"`` imported on first use (keeps ``--help`` free of torch); else as given."""
    if isinstance(target, str):
        module, _, name = target.partition(":")
        return getattr(importlib.import_module(module), name)
    return target


Handler = Callable[[argparse.Namespace], int | None]


class App:
    """One package's command line (see the module docstring).

    ``reproduce`` and ``report`` may be given as ``"pkg_x.experiment:reproduce"`` strings, imported when
    ``reproduce`` runs, so that ``--help`` and ``info`` import no heavy library. ``threads`` (default 1)
    pins torch and BLAS to that many threads for ``smoke`` and ``small`` runs on the CPU (None: leave the
    libraries' defaults); ``full`` runs and GPU runs keep the defaults. ``data_files`` maps a ``--dataset``
    choice to the files under the data root that ``reproduce --dataset`` reads (``"movielens-100k/ml-100k.inter"``);
    the contract tests hand each a truncated copy and expect exit 2.
    """

    def __init__(
        self,
        *,
        slug: str,
        version: str,
        paper: Paper,
        claims: Sequence[Claim],
        reproduce: Callable[[RunContext], Mapping[str, Any]] | str,
        datasets: Sequence[str] = ("synthetic",),
        default_seeds: Mapping[str, int] | None = None,
        report: Callable[[Sequence[Mapping[str, Any]], Mapping[str, Any], RunDir], None] | str | None = None,
        reproduce_arguments: Callable[[argparse.ArgumentParser], None] | None = None,
        threads: int | None = 1,
        examples: Sequence[str] = (),
        data_files: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        self.slug, self.version, self.paper, self.claims = slug, version, paper, list(claims)
        self.reproduce_fn, self.report = reproduce, report
        self.reproduce_arguments = reproduce_arguments
        self.threads = threads
        self.examples = list(examples)
        self.data_files = {k: list(v) for k, v in (data_files or {}).items()}
        self._reproduce_options: list[str] = []
        self.datasets = list(datasets)
        self.default_seeds = {"smoke": 1, "small": 3, "full": 3, **(default_seeds or {})}
        self.commands: dict[
            str, tuple[str, Callable[[argparse.ArgumentParser], None] | None, Handler, bool]
        ] = {}

    @property
    def prog(self) -> str:
        return f"pkg-{self.slug}"

    def command(
        self,
        name: str,
        help: str,
        arguments: Callable[[argparse.ArgumentParser], None] | None = None,
        run_options: bool = True,
    ) -> Callable[[Handler], Handler]:
        """Register ``handler(args) -> exit code`` as subcommand ``name``.

        ``arguments(parser)`` adds the command's own options; ``run_options`` adds the shared
        ``--device --seed --data-dir --out --quiet``.
        """

        def register(handler: Handler) -> Handler:
            if name in ("info", "reproduce") or name in self.commands:
                raise ValueError(f"command '{name}' is already defined")
            self.commands[name] = (help, arguments, handler, run_options)
            return handler

        return register

    # ------------------------------------------------------------------------------------------ parser
    def parser(self) -> argparse.ArgumentParser:
        examples = "\n".join(f"  {self.prog} {e}" for e in ["reproduce", *self.examples])
        parser = _Parser(
            prog=self.prog,
            description=f"{self.paper.title} ({self.paper.arxiv})\n\nexamples:\n{examples}",
        )
        parser.add_argument("--version", action="version", version=f"{self.prog} {self.version}")
        common = argparse.ArgumentParser(add_help=False)
        common.add_argument("--debug", action="store_true", help="show tracebacks")
        sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
        sub.required = True
        info_help = "the paper, what is implemented, the claims checked"
        sub.add_parser(
            "info",
            parents=[common],
            help=info_help,
            description=f"{info_help}\n\nexample:\n  {self.prog} info",
        )
        rep_help = "run the paper's experiment and judge its claims on the numbers measured"
        rep = sub.add_parser(
            "reproduce",
            parents=[common],
            help=rep_help,
            description=f"{rep_help}\n\nexamples:\n  {self.prog} reproduce\n"
            f"  {self.prog} reproduce --scale smoke --seeds 1 --out /tmp/runs",
        )
        rep.add_argument(
            "--scale",
            choices=SCALES,
            default="small",
            help="smoke (seconds), small (minutes, CPU), full (GPU)",
        )
        rep.add_argument(
            "--seeds",
            type=positive,
            default=None,
            help="number of seeds, from --seed on (unset: "
            + ", ".join(f"{k} {v}" for k, v in self.default_seeds.items())
            + ")",
        )
        rep.add_argument("--dataset", choices=self.datasets, default=self.datasets[0], help="data to run on")
        rep.add_argument("--strict", action="store_true", help="exit 1 when a paper claim does not hold")
        _add_run_options(rep)
        if self.reproduce_arguments is not None:
            before = {a.dest for a in rep._actions}
            self.reproduce_arguments(rep)
            self._reproduce_options = [a.dest for a in rep._actions if a.dest not in before]
        for name, (help_text, arguments, _, run_options) in self.commands.items():
            p = sub.add_parser(name, parents=[common], help=help_text, description=help_text)
            if arguments is not None:
                arguments(p)
            if run_options:
                _add_run_options(p)
        return parser

    # -------------------------------------------------------------------------------------------- main
    def main(self, argv: Sequence[str] | None = None) -> int:
        """Parse ``argv`` and run the command; returns the exit code (see the module docstring)."""
        argv = list(sys.argv[1:] if argv is None else argv)
        parser = self.parser()
        try:
            args = parser.parse_args(argv)
        except SystemExit as e:
            return int(e.code or 0)
        try:
            if args.command == "info":
                code = self.info()
            elif args.command == "reproduce":
                code = self.run_reproduce(args, argv)
            else:
                code = self.commands[args.command][2](args)
            return int(code or 0)
        except (UserError, *USER_OS_ERRORS) as e:
            text = str(e) if isinstance(e, UserError) else f"{e.strerror or e}: {e.filename}"
            _report(args.debug, f"{self.prog}: error: {text}")
            return 2
        except KeyboardInterrupt:
            _report(False, f"{self.prog}: interrupted (finished work was kept)")
            return 130
        except Exception as e:  # a bug: one line unless --debug
            _report(
                args.debug,
                f"{self.prog}: internal error (a bug): {type(e).__name__}: {e} (rerun with --debug and report it)",
            )
            return 3

    # ------------------------------------------------------------------------------------ subcommands
    def info(self) -> int:
        p = self.paper
        out = [
            f"{self.prog} {self.version}",
            f"paper: {p.title}",
            f"       {p.authors}; {p.venue}; arXiv:{p.arxiv}",
            "",
            "implemented:",
            *(f"  - {item}" for item in p.implemented),
            "",
            "datasets: " + ", ".join(p.datasets or self.datasets),
            f"commands: info, reproduce{''.join(', ' + c for c in self.commands)}",
            "",
            f"claims checked by `{self.prog} reproduce` ({len(self.claims)}):",
        ]
        for c in self.claims:
            out.append(f"  - {c.id} [{c.kind}; {c.where}; judged from --scale {c.scale}]: {c.text}")
            out.append(
                f"      paper: {c.paper_value}; rule: {c.rule}" + (f"; basis: {c.basis}" if c.basis else "")
            )
        out += ["", "citation:", textwrap.indent(p.bibtex.strip(), "  ")]
        print("\n".join(out))
        return 0

    def run_reproduce(self, args: argparse.Namespace, argv: Sequence[str]) -> int:
        t0 = time.time()
        n_seeds = args.seeds if args.seeds is not None else self.default_seeds[args.scale]
        seeds = [args.seed + i for i in range(n_seeds)]
        root = data_root(args.data_dir)
        if args.data_dir and not root.is_dir():
            raise UserError(f"--data-dir {root} is not a folder")
        run = RunDir.create(args.out, self.slug, args.seed)  # before any work: a bad --out fails at once
        from .device import env_info, pinned_threads, resolve_device
        from .seed import seed_everything

        device = resolve_device(args.device)
        options = {name: getattr(args, name) for name in self._reproduce_options}
        threads = self.threads if device.type == "cpu" and args.scale != "full" else None
        reproduce_fn, report = resolve(self.reproduce_fn), resolve(self.report)
        header = (
            f"{self.prog} reproduce: dataset {args.dataset}, scale {args.scale}, seeds {seeds}, device {device}"
            + (f", {threads} thread(s)" if threads else "")
        )
        run.write_config(
            {
                "package": self.prog,
                "version": self.version,
                "command": ["reproduce", *argv],
                "scale": args.scale,
                "seeds": seeds,
                "device": str(device),
                "dataset": args.dataset,
                "data_dir": str(root),
                "threads": threads,
                "options": options,
            }
        )
        status(header, quiet=args.quiet)
        per_seed: list[dict[str, Any]] = []
        dataset = args.dataset
        load_before = _load()
        try:
            with pinned_threads(threads):
                env = env_info(device)
                run.write_env(env)
                for seed in seeds:
                    seed_everything(seed)
                    ctx = RunContext(args.scale, seed, device, run, root, dataset, args.quiet, seeds, options)
                    ctx.status(f"started ({len(per_seed) + 1} of {len(seeds)})")
                    per_seed.append(dict(reproduce_fn(ctx)))
                    dataset = ctx.dataset  # an experiment may resolve a choice such as "auto"
                    ctx.status(f"done in {time.time() - t0:.0f} s so far")
                measured, spread = aggregate(per_seed)
                results = judge_claims(self.claims, measured, args.scale, spread, len(seeds))
                if report is not None:
                    report(per_seed, measured, run)
        except KeyboardInterrupt:
            run.write_json(
                "results.partial.json",
                {"interrupted": True, "seeds_done": seeds[: len(per_seed)], "per_seed": per_seed},
            )
            raise
        wall = time.time() - t0
        run.write_results(
            {
                "package": self.prog,
                "version": self.version,
                "paper": self.paper.title,
                "arxiv": self.paper.arxiv,
                "scale": args.scale,
                "seeds": seeds,
                "device": str(device),
                "dataset": dataset,
                "options": options,
                "threads": threads,
                "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
                "wall_seconds": round(wall, 2),
                "load": {"before": load_before, "after": _load()},
                "env": {**env, "cpu_count": os.cpu_count()},
                "headline": headline(results),
                "summary": summarize(results),
                "claims": [r.as_dict() for r in results],
                "measured": measured,
                "std": spread,
                "per_seed": per_seed,
            }
        )
        print(f"{header}; {wall:.1f} s")
        print(format_table(results))
        print(f"run folder: {run.path}")
        if args.strict and any(r.holds is False and r.kind == "paper" for r in results):
            return 1
        return 0


def _report(debug: bool, line: str) -> None:
    """Print an error line on stderr (the traceback with ``--debug``); under torchrun on rank 0 only."""
    if os.environ.get("RANK", "0") != "0":
        return
    if debug:
        traceback.print_exc()
    print(line, file=sys.stderr)


def _load() -> list[float] | None:
    """The 1, 5 and 15 minute load averages (None where the OS has none)."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (OSError, AttributeError):
        return None
