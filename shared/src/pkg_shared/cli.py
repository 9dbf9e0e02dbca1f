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
import sys
import textwrap
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import torch

from .claims import SCALES, Claim, aggregate, format_table, judge_claims, summarize
from .data import data_root
from .device import env_info, resolve_device
from .errors import UserError
from .io import RunDir
from .seed import seed_everything


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
    quiet: bool = False
    seeds: list[int] = field(default_factory=list)
    options: dict[str, Any] = field(default_factory=dict)
    """The values of the package's own ``reproduce`` options (``App(reproduce_arguments=...)``)."""

    def log(self, **metrics: Any) -> None:
        """Append a row (tagged with this seed) to the run's ``metrics.jsonl``."""
        self.run.log(seed=self.seed, **metrics)


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad command line as one line and exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _add_run_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N (default: auto)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    p.add_argument(
        "--data-dir", default=None, help="data root (default: $PKG_DATA_DIR, else ~/.cache/pkg-zoo/data)"
    )
    p.add_argument("--out", default="runs", help="folder for run folders (default: ./runs)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")


def positive(text: str) -> int:
    """argparse ``type=`` for a whole number >= 1 (a bad value is a one-line usage error, exit 2)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


Handler = Callable[[argparse.Namespace], int | None]


class App:
    """One package's command line (see the module docstring)."""

    def __init__(
        self,
        *,
        slug: str,
        version: str,
        paper: Paper,
        claims: Sequence[Claim],
        reproduce: Callable[[RunContext], Mapping[str, Any]],
        datasets: Sequence[str] = ("synthetic",),
        default_seeds: Mapping[str, int] | None = None,
        report: Callable[[Sequence[Mapping[str, Any]], Mapping[str, Any], RunDir], None] | None = None,
        reproduce_arguments: Callable[[argparse.ArgumentParser], None] | None = None,
    ) -> None:
        self.slug, self.version, self.paper, self.claims = slug, version, paper, list(claims)
        self.reproduce_fn, self.report = reproduce, report
        self.reproduce_arguments = reproduce_arguments
        self._reproduce_options: list[str] = []
        self.datasets = list(datasets)
        self.default_seeds = {"smoke": 1, "small": 1, "full": 3, **(default_seeds or {})}
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
        parser = _Parser(prog=self.prog, description=f"{self.paper.title} ({self.paper.arxiv})")
        parser.add_argument("--version", action="version", version=f"{self.prog} {self.version}")
        common = argparse.ArgumentParser(add_help=False)
        common.add_argument("--debug", action="store_true", help="show tracebacks")
        sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
        sub.required = True
        sub.add_parser("info", parents=[common], help="the paper, what is implemented, the claims checked")
        rep = sub.add_parser(
            "reproduce", parents=[common], help="run the paper's experiment and judge its claims"
        )
        rep.add_argument(
            "--scale", choices=SCALES, default="small", help="smoke (seconds), small (default), full"
        )
        rep.add_argument(
            "--seeds", type=int, default=None, help="number of seeds (default depends on --scale)"
        )
        rep.add_argument("--dataset", choices=self.datasets, default=self.datasets[0])
        rep.add_argument("--strict", action="store_true", help="exit 1 when a claim does not hold")
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
        except (UserError, ValueError, FileNotFoundError, PermissionError) as e:
            if args.debug:
                traceback.print_exc()
            print(f"{self.prog}: error: {e}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            print(f"{self.prog}: interrupted", file=sys.stderr)
            return 130
        except Exception as e:  # a bug: one line unless --debug
            if args.debug:
                traceback.print_exc()
            print(
                f"{self.prog}: internal error: {type(e).__name__}: {e} (rerun with --debug)", file=sys.stderr
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
            out.append(f"  - {c.id} [{c.where}; judged from --scale {c.scale}]: {c.text}")
            out.append(f"      paper: {c.paper_value}; rule: {c.rule}")
        out += ["", "citation:", textwrap.indent(p.bibtex.strip(), "  ")]
        print("\n".join(out))
        return 0

    def run_reproduce(self, args: argparse.Namespace, argv: Sequence[str]) -> int:
        t0 = time.time()
        n_seeds = args.seeds if args.seeds is not None else self.default_seeds[args.scale]
        if n_seeds < 1 or args.seed < 0:
            raise UserError("--seeds must be >= 1 and --seed >= 0")
        device = resolve_device(args.device)
        seeds = [args.seed + i for i in range(n_seeds)]
        root = data_root(args.data_dir)
        options = {name: getattr(args, name) for name in self._reproduce_options}
        run = RunDir.create(args.out, self.slug, args.seed)
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
                "options": options,
            }
        )
        run.write_env(env_info(device))
        per_seed = []
        for seed in seeds:
            seed_everything(seed)
            ctx = RunContext(args.scale, seed, device, run, root, args.dataset, args.quiet, seeds, options)
            per_seed.append(dict(self.reproduce_fn(ctx)))
        measured, spread = aggregate(per_seed)
        results = judge_claims(self.claims, measured, args.scale)
        if self.report is not None:
            self.report(per_seed, measured, run)
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
                "dataset": args.dataset,
                "wall_seconds": round(wall, 2),
                "claims": [r.as_dict() for r in results],
                "summary": summarize(results),
                "measured": measured,
                "std": spread,
                "per_seed": per_seed,
            }
        )
        print(f"{self.prog} reproduce --scale {args.scale}: {len(seeds)} seed(s) on {device}, {wall:.1f} s")
        print(format_table(results))
        print(f"run folder: {run.path}")
        if args.strict and any(r.holds is False for r in results):
            return 1
        return 0
