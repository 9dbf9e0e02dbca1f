"""pkg-zoo's sessions. Packages are discovered from ``packages/*/pyproject.toml``; nothing is hand-listed.

    uv run nox -t test                        # what CI runs: lint, pkg-shared, every package (CPU), repository
    uv run nox -s "tests(package='layernorm', device='cpu')"
    uv run nox -t cuda                        # the CUDA matrix, on a GPU machine
    uv run nox -s wheels                      # build every wheel, install into a fresh venv, run the CLIs
    uv run nox -s alone -- layernorm          # one wheel alone, lowest direct deps, sdist too, smoke reproduce
    uv run nox -s claims                      # every package's small run, committed as results/small.json
    uv run nox -s claims -- layernorm din     # only those
    uv run nox -s board                       # the reproducibility board in site/ (+ browser test if Chromium)
    uv run nox -s affected -- origin/main     # CPU tests of the packages a change touches
    uv run nox -s new -- <slug>               # scaffold packages/<slug>/
    nox -s gpu_here -- layernorm              # a GPU machine without internet: the current environment

Each ``tests`` session gets an environment holding only that package, pkg-shared, their declared
dependencies and pytest, installed from ``uv.lock`` through uv's cache (so torch is downloaded once per
machine, never per session), and a dependency a package forgot to declare fails its tests.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import nox

ROOT = Path(__file__).parent
nox.options.default_venv_backend = "uv"
nox.options.reuse_venv = "no"
nox.options.error_on_missing_interpreters = True
# The machines we run on set PYTHONDONTWRITEBYTECODE=1: every process would then recompile torch from
# source (about 6 s). Let each session's first process write bytecode and the later ones reuse it.
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)


def discover() -> dict[str, str]:
    """``{slug: distribution}`` for every package folder with a pyproject, plus pkg-shared as ``shared``."""
    found = {"shared": "pkg-shared"}
    for pyproject in sorted(ROOT.glob("packages/*/pyproject.toml")):
        found[pyproject.parent.name] = tomllib.loads(pyproject.read_text())["project"]["name"]
    return found


PACKAGES = discover()


def folder(slug: str) -> Path:
    return ROOT / "shared" if slug == "shared" else ROOT / "packages" / slug


VERBOSE = os.environ.get("PKG_ZOO_VERBOSE") == "1"  # set it to see every package each session installs
# PKG_ZOO_TORCH=cpu: the CPU build of the locked torch (about 1 GB instead of 5.5 GB with the CUDA libraries);
# the CPU CI jobs set it. Everything else still comes from uv.lock.
CPU_TORCH = os.environ.get("PKG_ZOO_TORCH") == "cpu"


def _locked_gpu_stack() -> tuple[dict[str, str], list[str]]:
    """The locked versions of torch and torchvision, and the CUDA-only packages the lock pulls in with torch."""
    lock = tomllib.loads((ROOT / "uv.lock").read_text())["package"]
    versions = {p["name"]: p["version"] for p in lock if p["name"] in ("torch", "torchvision")}
    cuda_only = sorted(p["name"] for p in lock if p["name"].startswith("nvidia-") or p["name"] == "triton")
    return versions, cuda_only


def _requires(distribution: str) -> list[str]:
    """The names a workspace member declares as dependencies."""
    slug = next(k for k, v in PACKAGES.items() if v == distribution)
    deps = tomllib.loads((folder(slug) / "pyproject.toml").read_text())["project"]["dependencies"]
    return [re.split(r"[<>=!~\[; ]", d, maxsplit=1)[0] for d in deps]


def sync(session: nox.Session, *args: str) -> None:
    """Install locked dependencies into the session's environment (``uv sync`` into its venv), quietly.

    With ``PKG_ZOO_TORCH=cpu`` the CUDA build of torch and its CUDA libraries are left out of the sync and
    the CPU build of the same torch (and torchvision) version is installed with uv's torch backend.
    """
    env = {"UV_PROJECT_ENVIRONMENT": session.virtualenv.location}
    quiet = [] if VERBOSE else ["--quiet"]
    versions, cuda_only = _locked_gpu_stack()
    skip = [f"--no-install-package={name}" for name in (*versions, *cuda_only)] if CPU_TORCH else []
    session.run_install(
        "uv", "sync", "--locked", "--no-default-groups", *quiet, *skip, *args, env=env, silent=not VERBOSE,
    )  # fmt: skip
    if CPU_TORCH:
        chosen = [args[args.index("--package") + 1]] if "--package" in args else list(PACKAGES.values())
        needs = {name for dist in chosen for name in _requires(dist)}
        pins = [f"{name}=={versions[name]}" for name in versions if name == "torch" or name in needs]
        session.run_install(
            "uv", "pip", "install", *quiet, "--torch-backend", "cpu", "--python", session.virtualenv.location, *pins,
            env=env, silent=not VERBOSE,
        )  # fmt: skip


def run_pytest(session: nox.Session, paths: list[str], device: str) -> None:
    marks = ["-m", "cuda"] if device == "cuda" else ["-m", "not cuda and not slow"]
    env = {"PKG_REQUIRE_CUDA": "1"} if device == "cuda" else {}
    # Exit 5 means "no tests collected": fine for a CUDA run of a package without CUDA tests.
    session.run(
        "pytest",
        *paths,
        *marks,
        "-p",
        "no:cacheprovider",
        *session.posargs,
        env=env,
        success_codes=[0, 5] if device == "cuda" else [0],
    )


@nox.session(tags=["test"], venv_backend="none")
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check over the whole repository (first, so CI fails fast)."""
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


TEST_PARAMS = [
    nox.param(
        slug, device, id=f"package='{slug}', device='{device}'", tags=["test" if device == "cpu" else "cuda"]
    )
    for slug in PACKAGES
    for device in ("cpu", "cuda")
]


@nox.session
@nox.parametrize(["package", "device"], TEST_PARAMS)
def tests(session: nox.Session, package: str, device: str) -> None:
    """One package's tests, in an environment holding only it, pkg-shared and their dependencies."""
    # Every optional extra that resolves with the lock, so reference checks (pykan, ...) run instead of skipping.
    sync(session, "--package", PACKAGES[package], "--group", "test", "--all-extras")
    run_pytest(session, [str(folder(package) / "tests")], device)


@nox.session(tags=["test"])
def repository(session: nox.Session) -> None:
    """The contract tests of ``tests/`` over every package, in one environment holding them all."""
    sync(session, "--all-packages", "--group", "test")
    run_pytest(session, ["tests"], "cpu")


@nox.session(venv_backend="uv")
def wheels(session: nox.Session) -> None:
    """Build every wheel, install them into a fresh venv, and run each package's CLI and import."""
    dist = Path(session.create_tmp()) / "dist"
    shutil.rmtree(dist, ignore_errors=True)
    session.run("uv", "build", "--all-packages", "--wheel", "--out-dir", str(dist), "-q", external=True)
    built = sorted(str(p) for p in dist.glob("*.whl"))
    session.install("-q", *built)
    for slug in PACKAGES:
        module = "pkg_" + slug.replace("-", "_")
        session.run("python", "-c", f"import {module}; print({module}.__name__, {module}.__version__)")
        if slug != "shared":
            session.run(f"pkg-{slug}", "--help", silent=True)
            session.run(f"pkg-{slug}", "info", silent=True)


@nox.session(venv_backend="uv")
def alone(session: nox.Session) -> None:
    """Each package's wheel installed ALONE (with pkg-shared's) at the lowest versions its pins allow, then
    ``reproduce --scale smoke``; and the same from its unpacked sdist. ``nox -s alone -- <slug> ...``.

    This is what a PyPI user gets with an old environment: it catches a lower bound that is too low
    (``--no-sources``: outside the workspace the ``pkg-shared = { workspace = true }`` source means nothing). It
    downloads old wheels (torch among them), so it is not part of the default CI run.
    """
    slugs = session.posargs or [s for s in PACKAGES if s != "shared"]
    tmp = Path(session.create_tmp())
    dist = tmp / "dist"
    shutil.rmtree(dist, ignore_errors=True)
    session.run("uv", "build", "--package", "pkg-shared", "--out-dir", str(dist), "-q", external=True)
    shared_wheel = next(dist.glob("pkg_shared-*.whl"))
    for slug in slugs:
        session.run("uv", "build", "--package", PACKAGES[slug], "--out-dir", str(dist), "-q", external=True)
        module = "pkg_" + slug.replace("-", "_")
        wheel = next(dist.glob(f"{module}-*.whl"))
        sdist = next(dist.glob(f"{module}-*.tar.gz"))
        unpacked = tmp / "sdist" / slug
        shutil.rmtree(unpacked, ignore_errors=True)
        unpacked.mkdir(parents=True)
        session.run("tar", "-xzf", str(sdist), "-C", str(unpacked), external=True)
        (source,) = unpacked.iterdir()
        for target in (str(wheel), str(source)):
            venv = tmp / f"venv-{slug}"
            shutil.rmtree(venv, ignore_errors=True)
            session.run("uv", "venv", "-q", str(venv), external=True)
            python = str(venv / "bin" / "python")
            session.run(
                "uv", "pip", "install", "-q", "--python", python, "--resolution", "lowest-direct", "--no-sources",
                str(shared_wheel), target, external=True,
            )  # fmt: skip
            out = tmp / "runs"
            session.run(python, "-m", module, "reproduce", "--scale", "smoke", "--seeds", "1", "--quiet",
                        "--device", "cpu", "--out", str(out), external=True)  # fmt: skip


@nox.session(venv_backend="none")
def claims(session: nox.Session) -> None:
    """Every package's ``reproduce --scale small`` on the CPU, committed as ``results/small.json``.

    ``nox -s claims -- <slug> ...`` for some. A package's ``[tool.pkg-zoo] small_args`` (e.g. ``["--dataset",
    "mnist-t10k"]``) are added to its command; real data comes from ``$PKG_DATA_DIR``. Each run's results.json is copied to
    ``packages/<slug>/results/small.json`` and the README tables are regenerated from it
    (``tools/catalogue.py``). Minutes per package; not part of CI.
    """
    slugs = session.posargs or [s for s in PACKAGES if s != "shared"]
    out = Path(session.create_tmp()) / "runs"
    for slug in slugs:
        shutil.rmtree(out / slug, ignore_errors=True)
        meta = tomllib.loads((folder(slug) / "pyproject.toml").read_text())
        extra = meta["tool"]["pkg-zoo"].get("small_args", [])  # e.g. ["--dataset", "mnist-t10k"]
        session.run(
            "uv", "run", "--locked", "--package", PACKAGES[slug], PACKAGES[slug], "reproduce",
            "--scale", "small", "--device", "cpu", "--quiet", "--out", str(out), *extra, external=True,
        )  # fmt: skip
        (run,) = (out / slug).iterdir()
        session.run(
            sys.executable, str(ROOT / "tools" / "catalogue.py"), "install", slug, str(run), external=True
        )


@nox.session
def board(session: nox.Session) -> None:
    """The reproducibility board: ``site/`` built from the committed results, then opened in headless
    Chromium (skipped with a note when no Chromium is installed; see README "The board")."""
    sync(session, "--all-packages", "--group", "test", "--group", "board")
    session.run("python", str(ROOT / "tools" / "board.py"), "--out", str(ROOT / "site"))
    session.run("pytest", str(ROOT / "tools" / "tests"), "-p", "no:cacheprovider", "-q", *session.posargs)


def changed_packages(base: str) -> list[str]:
    """Packages touched since git ref ``base``; a change under shared/ or at the top level selects all."""
    out = subprocess.run(
        ["git", "diff", "--name-only", base, "--"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    out += subprocess.run(
        ["git", "ls-files", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    selected: set[str] = set()
    for path in out:
        parts = Path(path).parts
        if len(parts) >= 2 and parts[0] == "packages" and parts[1] in PACKAGES:
            selected.add(parts[1])
        else:  # shared/, the top level, or a package that no longer exists
            return list(PACKAGES)
    return sorted(selected)


@nox.session(venv_backend="none")
def affected(session: nox.Session) -> None:
    """CPU tests of the packages changed since a git ref: ``nox -s affected -- <base>``."""
    if len(session.posargs) != 1:
        session.error("usage: nox -s affected -- <git ref>")
    selected = changed_packages(session.posargs[0])
    session.log(f"affected: {', '.join(selected) or 'nothing'}")
    for slug in selected:
        session.notify(f"tests(package='{slug}', device='cpu')")
    if selected:
        session.notify("repository")


@nox.session(venv_backend="none")
def new(session: nox.Session) -> None:
    """Scaffold ``packages/<slug>/`` from the template: ``nox -s new -- <slug>``."""
    session.run(sys.executable, str(ROOT / "tools" / "new_package.py"), *session.posargs)


@nox.session(venv_backend="none")
def gpu_here(session: nox.Session) -> None:
    """CUDA tests in the *current* environment (a GPU machine with torch preinstalled and no internet).

    ``nox -s gpu_here -- <slug> [<slug> ...]`` (default: shared and every package). The packages are put
    on ``PYTHONPATH`` from their sources and the pytest plugin is loaded explicitly; carry any missing
    third-party wheels in and install them with ``pip install --no-index --no-deps --target DIR``.
    """
    slugs = session.posargs or list(PACKAGES)
    src = [str(folder(s) / "src") for s in ("shared", *slugs)]
    env = {"PYTHONPATH": os.pathsep.join([*src, os.environ.get("PYTHONPATH", "")]), "PKG_REQUIRE_CUDA": "1"}
    for slug in slugs:
        session.run(
            "python",
            "-m",
            "pytest",
            str(folder(slug) / "tests"),
            "-m",
            "cuda",
            "-p",
            "pkg_shared.testing",
            "-p",
            "no:cacheprovider",
            env=env,
            success_codes=[0, 5],
        )
