import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from pkg_shared.errors import UserError
from pkg_shared.seed import seed_everything
from pkg_shared.train import fit, load_train_state


def _setup(seed=0):
    x = torch.randn(96, 5, generator=torch.Generator().manual_seed(0))  # the same data in every call
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).long()
    seed_everything(seed)
    model = torch.nn.Sequential(
        torch.nn.Linear(5, 16), torch.nn.ReLU(), torch.nn.Dropout(0.3), torch.nn.Linear(16, 2)
    )
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    loader = DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True)

    def evaluate(m):
        return {"val_loss": torch.nn.functional.cross_entropy(m(x), y).item()}

    return model, opt, sched, loader, evaluate


def test_fit_learns_and_records_history():
    model, opt, sched, loader, evaluate = _setup()
    result = fit(
        model,
        opt,
        loader,
        epochs=5,
        loss_fn=torch.nn.functional.cross_entropy,
        evaluate=evaluate,
        scheduler=sched,
        monitor="val_loss",
        quiet=True,
    )
    assert [r["epoch"] for r in result.history] == [1, 2, 3, 4, 5]
    assert result.history[-1]["val_loss"] < result.history[0]["val_loss"]
    assert result.history[2]["lr"] == pytest.approx(5e-3)
    assert result.best == min(r["val_loss"] for r in result.history)


def test_resume_after_interruption_equals_uninterrupted(tmp_path):
    kwargs = dict(
        epochs=6,
        loss_fn=torch.nn.functional.cross_entropy,
        quiet=True,
        monitor="val_loss",
        restore_best=False,
    )
    model, opt, sched, loader, evaluate = _setup()
    fit(model, opt, loader, evaluate=evaluate, scheduler=sched, **kwargs)
    reference = {k: v.clone() for k, v in model.state_dict().items()}

    model, opt, sched, loader, evaluate = _setup()
    calls = {"n": 0}

    def crashing_step(m, batch):
        calls["n"] += 1
        if calls["n"] == 3 * 6 + 2:  # in the middle of epoch 4 (6 batches per epoch)
            raise KeyboardInterrupt
        return torch.nn.functional.cross_entropy(m(batch[0]), batch[1])

    with pytest.raises(KeyboardInterrupt):
        fit(
            model,
            opt,
            loader,
            evaluate=evaluate,
            scheduler=sched,
            checkpoint_dir=tmp_path,
            step=crashing_step,
            **kwargs,
        )
    assert len(load_train_state(tmp_path)["result"]["history"]) == 3

    model, opt, sched, loader, evaluate = _setup(seed=123)  # a fresh process: other init, other RNG
    result = fit(model, opt, loader, evaluate=evaluate, scheduler=sched, checkpoint_dir=tmp_path, **kwargs)
    assert result.resumed_from == 3 and len(result.history) == 6
    for k, v in model.state_dict().items():
        assert torch.equal(v, reference[k]), k


def test_early_stopping_restores_best():
    model, opt, _, loader, _ = _setup()
    values = iter([3.0, 2.0, 2.5, 2.6, 2.7, 1.0])
    snapshots = []

    def evaluate(m):
        snapshots.append({k: v.clone() for k, v in m.state_dict().items()})
        return {"score": next(values)}

    result = fit(
        model,
        opt,
        loader,
        epochs=6,
        loss_fn=torch.nn.functional.cross_entropy,
        evaluate=evaluate,
        monitor="score",
        mode="min",
        patience=2,
        quiet=True,
    )
    assert result.stopped_early and result.best_epoch == 2 and len(result.history) == 4
    for k, v in model.state_dict().items():
        assert torch.equal(v, snapshots[1][k])


def test_bad_arguments():
    model, opt, _, loader, evaluate = _setup()
    with pytest.raises(UserError, match="step or loss_fn"):
        fit(model, opt, loader, epochs=1)
    with pytest.raises(UserError, match="monitor 'acc'"):
        fit(
            model,
            opt,
            loader,
            epochs=1,
            loss_fn=torch.nn.functional.cross_entropy,
            evaluate=evaluate,
            monitor="acc",
            quiet=True,
        )
    with pytest.warns(UserWarning, match="AMP"):
        fit(model, opt, loader, epochs=1, loss_fn=torch.nn.functional.cross_entropy, amp=True, quiet=True)


@pytest.mark.cuda
def test_fit_with_amp_on_cuda():
    model, opt, _, loader, evaluate = _setup()
    result = fit(
        model,
        opt,
        loader,
        epochs=2,
        loss_fn=torch.nn.functional.cross_entropy,
        evaluate=evaluate,
        device="cuda",
        amp=True,
        quiet=True,
    )
    assert next(model.parameters()).is_cuda and len(result.history) == 2


def test_resume_under_other_settings_is_refused(tmp_path):
    from pkg_shared.io import CheckpointError

    kwargs = dict(epochs=2, loss_fn=torch.nn.functional.cross_entropy, quiet=True, checkpoint_dir=tmp_path)
    model, opt, _, loader, _ = _setup()
    fit(model, opt, loader, settings={"lr": 1e-2, "hidden": 16}, **kwargs)
    model, opt, _, loader, _ = _setup()
    with pytest.raises(CheckpointError, match=r"lr: 0\.01 -> 0\.1"):
        fit(model, opt, loader, settings={"lr": 1e-1, "hidden": 16}, **kwargs)
    model, opt, _, loader, _ = _setup()
    with pytest.raises(CheckpointError, match="epochs"):
        fit(model, opt, loader, settings={"lr": 1e-2, "hidden": 16}, **{**kwargs, "epochs": 3})
    model, opt, _, loader, _ = _setup()  # the same settings resume
    assert fit(model, opt, loader, settings={"lr": 1e-2, "hidden": 16}, **kwargs).resumed_from == 2
