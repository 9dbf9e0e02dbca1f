"""Data-parallel training under torchrun on the CPU (gloo): equivalence with one process, resume after a
kill with the same or another number of processes, rank-0-only files, and bad input that exits cleanly."""

import json
import subprocess
import sys
import textwrap

import pytest
import torch

SCRIPT = textwrap.dedent(
    """
    import os, signal, sys
    import torch
    from torch.utils.data import DataLoader, TensorDataset
    from pkg_shared.cli import App, Paper
    from pkg_shared.io import RunDir
    from pkg_shared.seed import seed_everything
    from pkg_shared.train import fit

    def train(args):
        seed_everything(0)
        x = torch.randn(64, 6, generator=torch.Generator().manual_seed(1))
        y = x @ torch.arange(6.0) + 0.1
        model = torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
        opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        loader = DataLoader(TensorDataset(x, y[:, None]), batch_size=args.batch, shuffle=True)
        calls = {"n": 0}

        def step(m, batch):
            calls["n"] += 1
            if calls["n"] == args.kill_at and int(os.environ.get("RANK", 0)) == 0:
                os.kill(os.getpid(), signal.SIGKILL)
            return torch.nn.functional.mse_loss(m(batch[0]), batch[1])

        run = RunDir.create(args.out, "toy", 0)
        fit(model, opt, loader, epochs=args.epochs, step=step, checkpoint_dir=args.ckpt, quiet=True,
            settings={"lr": 0.05, "batch": args.batch}, log=run.log)
        if int(os.environ.get("RANK", 0)) == 0:
            torch.save({k: v for k, v in model.state_dict().items()}, args.weights)

    def arguments(p):
        p.add_argument("--batch", type=int, default=16)
        p.add_argument("--epochs", type=int, default=3)
        p.add_argument("--kill-at", type=int, default=0)
        p.add_argument("--ckpt")
        p.add_argument("--weights")

    app = App(slug="toy", version="0", paper=Paper("T", "A", "V", "0", "@x"), claims=[], reproduce=lambda c: {})
    app.command("train", "train", arguments=arguments)(train)
    sys.exit(app.main())
    """
)


def launch(tmp_path, nproc, name, *args):
    script = tmp_path / "toy.py"
    script.write_text(SCRIPT)
    ckpt = tmp_path / "ckpt"
    argv = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={nproc}", str(script),
            "train", "--device", "cpu", "--out", str(tmp_path / "runs"), "--ckpt", str(ckpt),
            "--weights", str(tmp_path / f"{name}.pt"), *args]  # fmt: skip
    env = {"OMP_NUM_THREADS": "1", "PKG_DIST_TIMEOUT": "60", "PATH": "/usr/bin:/bin"}
    return subprocess.run(
        argv, capture_output=True, text=True, timeout=240, env={**__import__("os").environ, **env}
    )


def weights(tmp_path, name):
    return torch.load(tmp_path / f"{name}.pt", weights_only=True)


def close(a, b):
    return all(torch.allclose(a[k], b[k], atol=1e-5, rtol=1e-5) for k in a)


def in_process(tmp_path, name, monkeypatch, *args):
    """The same command as one torchrun process, run inside the test process (saves a launch)."""
    import os
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    for key, value in {"WORLD_SIZE": "1", "RANK": "0", "LOCAL_RANK": "0", "MASTER_ADDR": "127.0.0.1",
                       "MASTER_PORT": str(port)}.items():  # fmt: skip
        monkeypatch.setenv(key, value)
    namespace: dict = {"__name__": "toy"}
    script = SCRIPT.replace("sys.exit(app.main())", "")
    exec(compile(script, "toy.py", "exec"), namespace)
    argv = ["train", "--device", "cpu", "--out", str(tmp_path / "runs"), "--ckpt", str(tmp_path / "ckpt"),
            "--weights", str(tmp_path / f"{name}.pt"), *args]  # fmt: skip
    try:
        return namespace["app"].main(argv)
    finally:
        from pkg_shared import distributed

        distributed.teardown()
        for key in ("WORLD_SIZE", "RANK", "LOCAL_RANK"):
            os.environ.pop(key, None)


def test_two_processes_equal_one(tmp_path, monkeypatch):
    one, two = tmp_path / "one", tmp_path / "two"
    for folder in (one, two):
        folder.mkdir()
    assert in_process(one, "w", monkeypatch, "--batch", "16") == 0
    proc = launch(two, 2, "w", "--batch", "16")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert close(weights(one, "w"), weights(two, "w")), "2 x batch 8 must equal 1 x batch 16"
    assert len(list((two / "runs" / "toy").iterdir())) == 1, "only rank 0 writes a run folder"
    assert sorted(p.name for p in (two / "ckpt").iterdir()) == [
        "settings.json", "train_state.json", "train_state.safetensors"]  # fmt: skip
    proc = launch(two, 2, "w", "--batch", "32")  # other settings in the same checkpoint folder: exit 2
    lines = [line for line in proc.stderr.splitlines() if line.startswith("pkg-toy")]
    assert proc.returncode != 0 and len(lines) == 1 and "batch: 16 -> 32" in lines[0], proc.stderr[-1500:]


@pytest.mark.slow
def test_a_killed_run_resumes_with_the_same_or_another_number_of_processes(tmp_path, monkeypatch):
    import shutil

    whole, killed = tmp_path / "whole", tmp_path / "killed"
    for folder in (whole, killed):
        folder.mkdir()
    assert launch(whole, 2, "w", "--batch", "16").returncode == 0
    proc = launch(
        killed, 2, "w", "--batch", "16", "--kill-at", "7"
    )  # rank 0 killed in epoch 2 (4 steps each)
    assert proc.returncode != 0
    assert json.loads((killed / "ckpt" / "train_state.json").read_text())["config"]["state"]  # epoch 1 saved
    other = tmp_path / "other"
    shutil.copytree(killed, other)
    again = launch(killed, 2, "w", "--batch", "16")
    assert again.returncode == 0, again.stderr[-2000:]
    assert close(weights(killed, "w"), weights(whole, "w")), "a killed 2-process run resumes to the same end"
    assert in_process(other, "w", monkeypatch, "--batch", "16") == 0
    assert close(weights(other, "w"), weights(whole, "w")), "resumed with another number of processes"


def test_bad_input_exits_2_on_rank_0_without_hanging(tmp_path):
    proc = launch(tmp_path, 2, "w", "--batch", "15")
    assert proc.returncode != 0
    lines = [line for line in proc.stderr.splitlines() if line.startswith("pkg-toy")]
    assert lines == ["pkg-toy: error: the global batch 15 does not split evenly over 2 processes"]


@pytest.mark.parametrize("world", [3])
def test_shard_sizes(world, monkeypatch):
    from torch.utils.data import DataLoader, TensorDataset

    from pkg_shared import distributed
    from pkg_shared.errors import UserError

    monkeypatch.setenv("WORLD_SIZE", str(world))
    monkeypatch.setenv("RANK", "1")
    loader = DataLoader(TensorDataset(torch.arange(30.0)), batch_size=6, shuffle=True)
    sharded = distributed.shard(loader, seed=3)
    assert sharded.batch_size == 2 and len(list(sharded)) == 5
    with pytest.raises(UserError, match="non-empty"):
        distributed.shard(DataLoader(TensorDataset(torch.arange(2.0)), batch_size=3), seed=0)
