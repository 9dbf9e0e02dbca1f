"""Image datasets as uint8 tensors ``N x 3 x S x S``, and the two augmentation pipelines.

- ``digits``: scikit-learn's 8x8 digits (offline), upsampled to 32x32 and repeated to 3 channels
  (smoke default); a fixed stratified 75/25 split (seed 0).
- ``cifar10-subset`` / ``fashion-mnist-subset``: the NPZ files of the data root (see their SOURCE.md);
  Fashion-MNIST is padded 28 -> 32 and repeated to 3 channels.
- ``cifar100``: the data root's ``cifar-100-python/{train,test,meta}``, CIFAR-100 exactly as its authors
  distribute it (https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz, unpacked).
- a folder ``PATH`` holding full CIFAR-10/100 in a standard layout: the python pickles
  (``cifar-10-batches-py/`` or ``cifar-100-python/``) or a torchvision ``ImageFolder`` tree
  ``train/<class>/*.png`` + ``test/<class>/*.png`` (or ``val/``).

Trust: CIFAR's public python files are pickles, and a pickle cannot be read without running the
unpickling machine. ``_ArrayUnpickler`` lets that machine build nothing but dicts, lists, bytes, numbers
and plain NumPy arrays (``find_class`` allows four NumPy/codec names; everything else, e.g. ``os.system``
or ``builtins.eval``, is refused before it is called), and object arrays are refused after loading. This
keeps the authors' files usable as downloaded (a conversion step would need the same unpickling, done
by the user with no restriction at all); a file from an untrusted source is still best converted on a
throw-away machine.
"""

from __future__ import annotations

import io
import pickle
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F

from pkg_shared.data import (
    DataError,
    check_labels,
    load_npz,
    require_files,
    sklearn_dataset,
    split_indices,
)
from pkg_shared.errors import UserError

NAMED = ("digits", "cifar10-subset", "fashion-mnist-subset", "cifar100")
FILES = {"cifar10-subset": "cifar10_subset.npz", "fashion-mnist-subset": "fashion_mnist_subset.npz"}
SOURCES = {
    "cifar10-subset": "a 5k/2k subset of CIFAR-10, https://www.cs.toronto.edu/~kriz/cifar.html",
    "fashion-mnist-subset": "a 12k/2k subset of https://github.com/zalandoresearch/fashion-mnist",
    "cifar100": "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz, unpacked",
}
CIFAR100_SIZES = {"train": 50_000, "test": 10_000}
LAYOUTS = (
    "expected one of: cifar-10-batches-py/{data_batch_1..5,test_batch}, "
    "cifar-100-python/{train,test}, or ImageFolder train/<class>/*.png + test/<class>/*.png (or val/)"
)


class ImageSplit(NamedTuple):
    """Train and test images (uint8, ``N x 3 x S x S``) with int64 labels."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    num_classes: int
    name: str

    def subset(self, max_train: int | None = None, max_test: int | None = None) -> ImageSplit:
        """The first ``max_train`` training and ``max_test`` test images (all when None)."""
        return self._replace(
            x_train=self.x_train[:max_train],
            y_train=self.y_train[:max_train],
            x_test=self.x_test[:max_test],
            y_test=self.y_test[:max_test],
        )


def _to_chw(x: np.ndarray, size: int = 32) -> torch.Tensor:
    """``N x H x W`` (gray) or ``N x H x W x 3`` uint8 -> ``N x 3 x size x size`` (gray padded with zeros)."""
    t = torch.from_numpy(np.ascontiguousarray(x))
    if t.ndim == 3:
        pad = size - t.shape[-1]
        t = F.pad(t, (pad // 2, pad - pad // 2, pad // 2, pad - pad // 2))
        return t[:, None].expand(-1, 3, -1, -1).contiguous()
    return t.permute(0, 3, 1, 2).contiguous()


def digits(size: int = 32) -> ImageSplit:
    """scikit-learn's digits (values 0..16 on 8x8), bilinearly upsampled to ``size`` px, 3 channels."""
    X, y = sklearn_dataset("digits")
    img = torch.from_numpy(X).reshape(-1, 1, 8, 8) * (255.0 / 16.0)
    img = F.interpolate(img, size=(size, size), mode="bilinear", align_corners=False)
    img = img.round().clamp(0, 255).to(torch.uint8).expand(-1, 3, -1, -1).contiguous()
    train, test = split_indices(y, 0.25, seed=0)
    y_t = torch.from_numpy(y.astype(np.int64))
    return ImageSplit(img[train], y_t[train], img[test], y_t[test], 10, "digits")


def _npz(name: str, root: str | Path | None) -> ImageSplit:
    folder = require_files(name, [FILES[name]], root=root, source=SOURCES[name])
    path = folder / FILES[name]
    z = load_npz(path, ["x_train", "y_train", "x_test", "y_test"])
    for part in ("train", "test"):
        x, y = z[f"x_{part}"], z[f"y_{part}"]
        gray = name == "fashion-mnist-subset"
        if x.dtype != np.uint8 or x.shape[1:] != ((28, 28) if gray else (32, 32, 3)):
            raise DataError(f"{path}: x_{part} is {x.dtype} {x.shape}, expected uint8 images")
        if y.ndim != 1 or len(y) != len(x) or len(y) == 0:
            raise DataError(f"{path}: y_{part} has {y.shape} labels for {len(x)} images")
        check_labels(y, range(10), path, f"y_{part}")
    return ImageSplit(
        _to_chw(z["x_train"]),
        torch.from_numpy(z["y_train"].astype(np.int64)),
        _to_chw(z["x_test"]),
        torch.from_numpy(z["y_test"].astype(np.int64)),
        10,
        name,
    )


class _ArrayUnpickler(pickle.Unpickler):
    """Unpickles only what CIFAR's python batches hold: dicts, lists, bytes and NumPy arrays."""

    ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("_codecs", "encode"),  # how protocol-2 pickles written by Python 3 store bytes
    }

    def find_class(self, module: str, name: str):  # noqa: ANN201
        if (module, name) not in self.ALLOWED:
            raise DataError(f"refusing to unpickle {module}.{name}: not a CIFAR batch")
        return super().find_class(module, name)


def _unpickle(path: Path) -> dict:
    try:
        d = _ArrayUnpickler(io.BytesIO(path.read_bytes()), encoding="bytes").load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, IndexError, AttributeError) as e:
        raise DataError(f"{path} is not a readable CIFAR python file (truncated or damaged: {e})") from None
    if not isinstance(d, dict):
        raise DataError(f"{path} is not a CIFAR python file (holds a {type(d).__name__}, not a dict)")
    return d


def _read_batch(path: Path, classes: int, size: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """One CIFAR python batch: ``N x 3 x 32 x 32`` uint8 images and labels in ``0..classes-1``."""
    d = _unpickle(path)
    key = b"labels" if b"labels" in d else b"fine_labels"
    if b"data" not in d or key not in d:
        raise DataError(f"{path} lacks 'data' or '{key.decode()}': not a CIFAR python batch")
    data = np.asarray(d[b"data"])
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3 * 32 * 32:
        raise DataError(f"{path}: 'data' is {data.dtype} {data.shape}, expected uint8 N x 3072")
    y = np.asarray(d[key])
    if y.dtype == object or y.ndim != 1 or len(y) != len(data):
        raise DataError(f"{path}: {len(y)} labels for {len(data)} images")
    if size is not None and len(data) != size:
        raise DataError(f"{path}: {len(data)} images, the public file holds {size}")
    check_labels(y, range(classes), path, key.decode())
    return data.reshape(-1, 3, 32, 32), y.astype(np.int64)


def cifar100(root: str | Path | None = None) -> ImageSplit:
    """CIFAR-100 (fine labels) from ``<data root>/cifar-100-python/{train,test,meta}`` (public layout)."""
    folder = require_files(
        "cifar-100-python", ["train", "test", "meta"], root=root, source=SOURCES["cifar100"]
    )
    return _cifar100_folder(folder, sizes=CIFAR100_SIZES)


def _cifar100_folder(folder: Path, sizes: dict[str, int] | None = None) -> ImageSplit:
    if (folder / "meta").is_file():
        names = _unpickle(folder / "meta").get(b"fine_label_names")
        if not isinstance(names, list) or len(names) != 100:
            raise DataError(f"{folder / 'meta'} does not list the 100 fine label names of CIFAR-100")
    sizes = sizes or {}
    (x, y), (xt, yt) = (_read_batch(folder / p, 100, sizes.get(p)) for p in ("train", "test"))
    return ImageSplit(*map(torch.from_numpy, (x, y, xt, yt)), 100, "cifar100")


def _cifar_pickles(folder: Path) -> ImageSplit | None:
    c10, c100 = folder / "cifar-10-batches-py", folder / "cifar-100-python"
    for base in (folder, c10, c100):
        if (base / "data_batch_1").is_file():
            parts = [_read_batch(base / f"data_batch_{i}", 10) for i in range(1, 6)]
            xt, yt = _read_batch(base / "test_batch", 10)
            x, y = np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
            return ImageSplit(*map(torch.from_numpy, (x, y, xt, yt)), 10, "cifar10")
        if (base / "train").is_file() and (base / "test").is_file():
            return _cifar100_folder(base)
    return None


def _image_folder(folder: Path, size: int) -> ImageSplit | None:
    test_dir = next((folder / n for n in ("test", "val") if (folder / n).is_dir()), None)
    if not (folder / "train").is_dir() or test_dir is None:
        return None
    from torchvision import transforms
    from torchvision.datasets import ImageFolder

    tf = transforms.Compose([transforms.Resize((size, size)), transforms.PILToTensor()])
    try:
        train, test = ImageFolder(folder / "train", transform=tf), ImageFolder(test_dir, transform=tf)
    except (FileNotFoundError, OSError) as e:
        raise UserError(f"{folder} is not an ImageFolder tree ({e}); {LAYOUTS}") from None
    if train.classes != test.classes:
        raise UserError(f"{folder}: train/ and {test_dir.name}/ hold different class folders")

    def load(ds: ImageFolder, i: int) -> torch.Tensor:
        try:
            return ds[i][0]
        except OSError as e:  # PIL: truncated or not an image
            raise DataError(f"{ds.samples[i][0]} cannot be read as an image ({e})") from None

    def stack(ds: ImageFolder) -> tuple[torch.Tensor, torch.Tensor]:
        if len(ds) == 0:
            raise DataError(f"{ds.root} holds no images")
        imgs = [load(ds, i) for i in range(len(ds))]
        imgs = [im.expand(3, -1, -1) if im.shape[0] == 1 else im[:3] for im in imgs]
        return torch.stack(imgs), torch.tensor(ds.targets, dtype=torch.int64)

    return ImageSplit(*stack(train), *stack(test), len(train.classes), folder.name)


def load_images(name: str, root: str | Path | None = None, size: int = 32) -> ImageSplit:
    """A named dataset (``NAMED``) from the data root, or a folder in one of the standard layouts."""
    if name == "digits":
        return digits(size)
    if name == "cifar100":
        return resize(cifar100(root), size)
    if name in FILES:
        return resize(_npz(name, root), size)
    folder = Path(name).expanduser()
    if not folder.is_dir():
        raise UserError(f"unknown dataset {name!r}: one of {', '.join(NAMED)}, or a folder ({LAYOUTS})")
    found = _cifar_pickles(folder)
    found = resize(found, size) if found is not None else _image_folder(folder, size)
    if found is None:
        raise UserError(f"{folder} is not in a known layout; {LAYOUTS}")
    return found


def resize(split: ImageSplit, size: int) -> ImageSplit:
    """Bilinear resize of every image to ``size x size`` (a no-op at the stored size)."""
    if split.x_train.shape[-1] == size:
        return split

    def r(x: torch.Tensor) -> torch.Tensor:
        y = F.interpolate(x.float(), size=(size, size), mode="bilinear", align_corners=False)
        return y.round().clamp(0, 255).to(torch.uint8)

    return split._replace(x_train=r(split.x_train), x_test=r(split.x_test))


# ---------------------------------------------------------------------------------------- augmentation
def channel_stats(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel mean and std of uint8 images on [0, 1] (fitted on the training split only)."""
    xf = x.float().div_(255)
    return xf.mean(dim=(0, 2, 3)), xf.std(dim=(0, 2, 3))


def light_augment(x: torch.Tensor, generator: torch.Generator, pad: int = 4) -> torch.Tensor:
    """RandomCrop(S, padding=pad) + horizontal flip for a whole uint8 batch, vectorised.

    Each image gets its own offset in ``[0, 2 pad]`` and flip coin, applied with one gather.
    """
    B, C, S, _ = x.shape
    xp = F.pad(x, (pad, pad, pad, pad))
    off = torch.randint(0, 2 * pad + 1, (2, B), generator=generator)
    flip = torch.rand(B, generator=generator) < 0.5
    ar = torch.arange(S)
    rows = (off[0, :, None] + ar)[:, None, :, None]  # B x 1 x S x 1
    cols = off[1, :, None] + torch.where(flip[:, None], ar.flip(0), ar)
    cols = cols[:, None, None, :]  # B x 1 x 1 x S
    b = torch.arange(B)[:, None, None, None]
    c = torch.arange(C)[None, :, None, None]
    return xp[b, c, rows, cols]


def normalise(x: torch.Tensor, mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
    """uint8 -> float standardised per channel."""
    return (x.float().div(255) - mean[:, None, None]) / std[:, None, None]


class DeiTAugment(torch.utils.data.Dataset):
    """The paper's per-image pipeline with timm's transforms (DeiT recipe, RandomCrop for 32 px).

    RandomCrop(S, pad 4) -> flip -> RandAugment (``rand-m9-mstd0.5-inc1``) -> tensor -> ImageNet
    mean/std -> RandomErasing (p, pixel mode). Mixup/CutMix act on whole batches in the training loop.
    """

    def __init__(self, x: torch.Tensor, y: torch.Tensor, rand_augment: str, reprob: float) -> None:
        from timm.data import IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD
        from timm.data.auto_augment import rand_augment_transform
        from timm.data.random_erasing import RandomErasing
        from torchvision import transforms

        self.x, self.y = x, y
        size = x.shape[-1]
        hparams = {
            "translate_const": int(size * 0.45),
            "img_mean": tuple(round(255 * m) for m in IMAGENET_DEFAULT_MEAN),
        }
        ops = [transforms.RandomCrop(size, padding=4), transforms.RandomHorizontalFlip()]
        if rand_augment:
            ops.append(rand_augment_transform(rand_augment, hparams))
        ops += [transforms.ToTensor(), transforms.Normalize(IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD)]
        if reprob > 0:
            ops.append(RandomErasing(reprob, mode="pixel", device="cpu"))
        self.transform = transforms.Compose(ops)

    def __len__(self) -> int:
        return len(self.y)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        from PIL import Image

        img = Image.fromarray(self.x[i].permute(1, 2, 0).numpy())
        return self.transform(img), self.y[i]
