"""The spec's protocol ("Small-scale reproduction") as dataclasses, with presets per scale."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ExperimentConfig:
    """LeNet on 28x28 images (ResNet-20 on CIFAR for ``full``): FP32 training, the PTQ grid, QAT, mixed
    precision and the torch.ao comparison. Defaults are the spec's: 5 epochs of Adam 1e-3 at batch 128,
    calibration on the first 256 training images, W2A4 QAT for 2 epochs with Adam 2e-4 (BN statistics
    frozen after 1 epoch where the model has BN), Hutchinson with 50 probes (the spec allows 50-200), bits
    {2, 3, 4, 8} at <= 3 average bits, latency at batch 256.
    """

    model: str = "lenet"
    epochs: int = 5
    lr: float = 1e-3
    batch_size: int = 128
    max_train: int | None = None
    max_test: int | None = None
    calib_size: int = 256
    grid_bits: tuple[tuple[int, int], ...] = ((8, 8), (4, 8), (4, 4), (2, 8))
    granularities: tuple[str, ...] = ("per-tensor", "per-channel")
    calibrators: tuple[str, ...] = ("minmax", "percentile", "mse", "kl")
    percentile: float = 99.99
    qat_bits: tuple[int, int] = (2, 4)
    qat_epochs: int = 2
    qat_lr: float = 2e-4
    bn_freeze_epoch: int = 1
    probes: int = 50
    mixed_bits: tuple[int, ...] = (2, 3, 4, 8)
    avg_bits: float = 3.0
    torch_ao: bool = True
    bench_batch: int = 256


PRESETS = {
    "smoke": ExperimentConfig(
        epochs=1,
        max_train=256,
        max_test=200,
        calib_size=32,
        grid_bits=((8, 8), (4, 4), (2, 8)),
        calibrators=("minmax", "mse"),
        qat_epochs=1,
        probes=2,
        bench_batch=32,
    ),
    "small": ExperimentConfig(),
    "full": ExperimentConfig(
        model="resnet20", epochs=30, qat_epochs=10, bn_freeze_epoch=2, lr=1e-3, torch_ao=False
    ),
}

RESNET_SMALL = ExperimentConfig(
    model="resnet20",
    epochs=4,
    max_test=1000,
    calib_size=128,
    grid_bits=((8, 8), (4, 4), (2, 8)),
    calibrators=("minmax", "mse"),
    probes=4,
    torch_ao=False,
)
"""``--scale small --dataset cifar10-subset``: ResNet-20 cut to fit a CPU (~10 CPU-minutes per seed):
4 FP32 epochs instead of 30, 1,000 test images, 128 calibration images, a 3x2x2 PTQ grid (no W4A8, no
percentile or KL), 4 Hutchinson probes; QAT as the spec (2 epochs, BN frozen after 1)."""


def preset(scale: str, dataset: str | None) -> ExperimentConfig:
    """The configuration of a ``reproduce`` run: ``PRESETS[scale]``, or ``RESNET_SMALL`` for CIFAR at small."""
    if scale == "small" and dataset == "cifar10-subset":
        return RESNET_SMALL
    return PRESETS[scale]
