"""Datasets and augmentation: layouts, the restricted unpickler, the vectorised crop/flip."""

import pickle

import numpy as np
import pytest
import torch
from PIL import Image

from pkg_dhvt.data import digits, light_augment, load_images
from pkg_shared.data import DataError
from pkg_shared.errors import UserError


def test_digits_is_upsampled_rgb():
    split = digits()
    assert split.x_train.shape[1:] == (3, 32, 32) and split.x_train.dtype == torch.uint8
    assert split.num_classes == 10 and len(split.y_train) + len(split.y_test) == 1797
    assert split.x_train.max() > 200


def _write_batch(path, n, labels_key=b"labels", seed=0):
    rng = np.random.default_rng(seed)
    d = {
        labels_key: rng.integers(0, 10, n).tolist(),
        b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
    }
    path.write_bytes(pickle.dumps(d, protocol=2))


def test_cifar10_python_batches(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    for i in range(1, 6):
        _write_batch(folder / f"data_batch_{i}", 4, seed=i)
    _write_batch(folder / "test_batch", 3)
    split = load_images(str(tmp_path))
    assert split.x_train.shape == (20, 3, 32, 32) and split.x_test.shape == (3, 3, 32, 32)
    assert split.num_classes == 10


def test_cifar100_python_files(tmp_path):
    folder = tmp_path / "cifar-100-python"
    folder.mkdir()
    _write_batch(folder / "train", 5, b"fine_labels")
    _write_batch(folder / "test", 2, b"fine_labels")
    split = load_images(str(folder))
    assert split.num_classes == 100 and split.x_train.shape == (5, 3, 32, 32)


def test_unpickler_refuses_code(tmp_path):
    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    (tmp_path / "data_batch_1").write_bytes(pickle.dumps({b"data": Evil()}))
    with pytest.raises(DataError, match="refusing"):
        load_images(str(tmp_path))


def test_image_folder_layout(tmp_path):
    for split, n in (("train", 3), ("test", 2)):
        for c in ("cat", "dog"):
            (tmp_path / split / c).mkdir(parents=True)
            for i in range(n):
                Image.new("RGB", (40, 40), (i * 50, 0, 0)).save(tmp_path / split / c / f"{i}.png")
    split = load_images(str(tmp_path), size=32)
    assert split.x_train.shape == (6, 3, 32, 32) and split.num_classes == 2


def test_wrong_layout_says_what_is_expected(tmp_path):
    (tmp_path / "random.txt").write_text("x")
    with pytest.raises(UserError, match="expected one of"):
        load_images(str(tmp_path))
    with pytest.raises(UserError, match="unknown dataset"):
        load_images(str(tmp_path / "absent"))


def test_light_augment_is_a_shifted_or_flipped_crop():
    x = torch.arange(2 * 3 * 8 * 8, dtype=torch.float32).reshape(2, 3, 8, 8)
    g = torch.Generator().manual_seed(0)
    out = light_augment(x, g, pad=2)
    assert out.shape == x.shape
    g = torch.Generator().manual_seed(0)
    off = torch.randint(0, 5, (2, 2), generator=g)
    flip = torch.rand(2, generator=g) < 0.5
    padded = torch.nn.functional.pad(x, (2, 2, 2, 2))
    for b in range(2):
        crop = padded[b, :, off[0, b] : off[0, b] + 8, off[1, b] : off[1, b] + 8]
        if flip[b]:
            crop = crop.flip(-1)
        assert torch.equal(out[b], crop)


@pytest.mark.data
def test_data_root_subsets(data_dir):
    c10 = load_images("cifar10-subset", data_dir)
    assert c10.x_train.shape == (5000, 3, 32, 32) and c10.x_test.shape == (2000, 3, 32, 32)
    fm = load_images("fashion-mnist-subset", data_dir)
    assert fm.x_train.shape == (12000, 3, 32, 32) and fm.x_train[:, :, :2].max() == 0
