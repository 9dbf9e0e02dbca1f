"""The spec's protocol ("Small-scale reproduction") as dataclasses, with presets per scale."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ExperimentConfig:
    """LeNet on 28x28 images (ResNet-20 on CIFAR for ``full``): FP32 training, the PTQ grid, QAT, mixed
    precision and the torch.ao comparison. Defaults are the spec's: 5 epochs of Adam 1e-3 at batch 128,
    calibration on the first 256 training images, W2A4 QAT for 2 epochs with Adam 2e-4, Hutchinson with
    50 probes (the spec allows 50-200), bits {2, 3, 4, 8} at <= 3 average bits, latency at batch 256.
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
    "full": ExperimentConfig(model="resnet20", epochs=30, qat_epochs=10, lr=1e-3, torch_ao=False),
}
