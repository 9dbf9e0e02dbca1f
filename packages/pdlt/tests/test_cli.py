import pytest

from pkg_pdlt.cli import main
from pkg_shared.testing import read_results, run_folder


def test_smoke_reproduce_end_to_end(run_cli, tmp_path):
    code, out, err = run_cli(
        main, "reproduce", "--scale", "smoke", "--out", tmp_path, "--quiet", "--device", "cpu"
    )
    assert code == 0, err
    run = run_folder(tmp_path, "pdlt")
    results = read_results(tmp_path, "pdlt")
    claims = {c["id"]: c for c in results["claims"]}
    for cid in (
        "tanh-lK-half",
        "relu-K-constant",
        "k0-class-criticality",
        "relu-criticality",
        "spec-regressions",
    ):
        assert claims[cid]["holds"] is True, claims[cid]
    assert claims["kurtosis-exact-mc"]["holds"] is None  # judged from --scale small
    for name in ("kernel", "phase", "vertex", "ntk", "correlation"):
        assert (run / "plots" / f"{name}.png").is_file()
    assert "relu n=16" in results["measured"]["vertex_curves"]


def test_kernel_csv(run_cli):
    code, out, _ = run_cli(main, "kernel", "--act", "relu", "--cw", "2", "--depth", "5")
    lines = out.strip().splitlines()
    assert code == 0 and lines[0] == "layer,K,chi_par,chi_perp,V_over_K2,Theta" and len(lines) == 6
    assert [float(r.split(",")[4]) for r in lines[1:]] == pytest.approx([0, 5, 10, 15, 20])


def test_criticality_command(run_cli):
    code, out, _ = run_cli(main, "criticality", "--act", "tanh")
    assert code == 0 and "C_W = 1" in out and "K*=0" in out
    code, out, _ = run_cli(main, "criticality", "--act", "sigmoid")
    assert code == 0 and "none" in out


def test_montecarlo_and_ntk_commands(run_cli, tmp_path):
    argv = ["--width", "8", "--depth", "3", "--samples", "200", "--out", tmp_path]
    code, out, err = run_cli(main, "montecarlo", "--act", "linear", *argv)
    assert code == 0, err
    assert out.splitlines()[0].startswith("layer,K,K_mc") and len(out.strip().splitlines()) == 4
    code, out, err = run_cli(
        main, "ntk", "--act", "relu", "--widths", "8,16", "--depth", "2", "--nets", "10", "--equivalence"
    )
    assert code == 0 and "lambda_W = 0.5" in out, err


@pytest.mark.parametrize(
    "argv",
    [
        ["kernel", "--act", "elu"],
        ["kernel", "--act", "leaky_relu:x"],
        ["kernel", "--cw", "0"],
        ["kernel", "--cb", "-1"],
        ["kernel", "--k1", "0"],
        ["kernel", "--depth", "0"],
        ["criticality", "--act", "bogus"],
        ["montecarlo", "--width", "0"],
        ["montecarlo", "--samples", "5"],
        ["montecarlo", "--act", "swish"],
        ["ntk", "--widths", "0,4"],
        ["ntk", "--depth", "0"],
        ["ntk", "--widths", "64,100000"],
        ["kernel", "--depth", "100000000000"],
        ["kernel", "--cw", "nan"],
        ["montecarlo", "--samples", "1e12"],
        ["montecarlo", "--width", "1000000"],
        ["montecarlo", "--depth", "5000", "--samples", "1000000", "--width", "4"],
        ["ntk", "--widths", "4096", "--depth", "200", "--nets", "10"],
    ],
)
def test_bad_input_exits_2_with_one_line(run_cli, argv):
    code, _, err = run_cli(main, *argv)
    assert code == 2 and len(err.strip().splitlines()) == 1, err


def test_huge_depth_names_the_limit(run_cli):
    code, _, err = run_cli(main, "kernel", "--depth", "100000000000")
    assert code == 2 and "must be <= 100000" in err and "MemoryError" not in err


def test_montecarlo_shows_progress_unless_quiet(run_cli, tmp_path, monkeypatch):
    import pkg_pdlt.montecarlo as mc

    seen = []
    real = mc.progress
    monkeypatch.setattr(mc, "progress", lambda it, **kw: seen.append(kw["quiet"]) or real(it, **kw))
    argv = ["montecarlo", "--width", "8", "--depth", "2", "--samples", "20", "--out", tmp_path]
    assert run_cli(main, *argv)[0] == 0 and run_cli(main, *argv, "--quiet")[0] == 0
    assert seen == [False, True]


def test_unknown_activation_lists_the_valid_ones(run_cli):
    _, _, err = run_cli(main, "kernel", "--act", "elu")
    assert "relu" in err and "leaky_relu:<slope>" in err and "softplus" in err


@pytest.mark.slow
def test_small_reproduce(run_cli, tmp_path):
    code, _, err = run_cli(
        main, "reproduce", "--scale", "small", "--out", tmp_path, "--quiet", "--device", "cpu"
    )
    assert code == 0, err
    claims = {c["id"]: c for c in read_results(tmp_path, "pdlt")["claims"]}
    assert all(c["holds"] is not None for c in claims.values())
    for cid in (
        "k0-class-criticality",
        "relu-criticality",
        "ntk-mean-relu",
        "ntk-mean-tanh",
        "1n-breakdown-relu",
    ):
        assert claims[cid]["holds"] is True, claims[cid]


def test_mnist_claim_not_run_without_data(tmp_path):
    import torch

    from pkg_pdlt.config import PRESETS
    from pkg_pdlt.experiment import mnist_data, mnist_part
    from pkg_shared.claims import NotRun
    from pkg_shared.cli import RunContext

    for dataset in ("none", "mnist-t10k"):
        ctx = RunContext("smoke", 0, torch.device("cpu"), None, tmp_path, dataset)
        X = mnist_data(PRESETS["smoke"].mnist, ctx)
        value = mnist_part(PRESETS["smoke"].mnist, X, ctx.device, torch.Generator())["mnist_kernel_max_z"]
        assert isinstance(value, NotRun)
    assert "mnist_t10k.npz" in value.reason and "yann.lecun.com" in value.reason


@pytest.mark.data
def test_mnist_inputs_and_multi_input_kernel(data_dir):
    import numpy as np
    import torch

    from pkg_pdlt.data import mnist_inputs
    from pkg_pdlt.montecarlo import ensemble
    from pkg_pdlt.theory import multi_input_recursion

    X = mnist_inputs(data_dir, 3)
    assert X.shape == (3, 784) and np.allclose((X**2).sum(1), 784)
    K = multi_input_recursion("relu", 0.0, 2.0, X, 3).K
    ens = ensemble(
        "relu", 0.0, 2.0, torch.as_tensor(X), [64] * 3, 200, generator=torch.Generator().manual_seed(0)
    )
    gram = ens.gram[-1].numpy()
    assert np.all(np.abs(gram.mean(0) - K[-1]) <= 4 * gram.std(0) / np.sqrt(200))
