"""MiniRocket in PyTorch: its features against a plain loop, its handling of padding and
channels, seeded reproducibility, and a fit on a shipped UCR set that predicts."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lernwerk.data.builtin import load_builtin
from lernwerk.errors import DataError
from lernwerk.training.rocket import (
    KERNEL_INDICES,
    NUM_KERNELS,
    MiniRocket,
    fit_rocket,
    real_lengths,
)


def _series(n: int = 6, c: int = 1, t: int = 40, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, c, t, generator=g)  # (N, C, T)


@pytest.fixture(autouse=True)
def one_thread():
    """One intra-op thread, as the baselines take on a busy machine (threads.py)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_real_lengths_drop_the_repeated_last_value_only() -> None:
    x = _series(3, 2, 10)
    x[0, :, 6:] = x[0, :, 5:6]  # padded after 6 real steps
    x[1, 0, 7:] = x[1, 0, 6:7]  # one channel repeats, the other does not: all real
    assert real_lengths(x).tolist() == [6, 10, 10]
    assert real_lengths(torch.ones(1, 1, 5)).tolist() == [1]


def test_features_match_a_plain_loop() -> None:
    """Each feature: the share of steps where the dilated kernel's output exceeds a bias."""
    x = _series(4, 1, 30)
    rocket = MiniRocket.fit(x, seed=3)
    features = rocket.transform(x)  # (N, 84 × Σ f)
    assert features.shape == (4, rocket.num_features) and rocket.num_features == 9996
    assert ((features >= 0) & (features <= 1)).all()
    series = x[:, 0].double().numpy()  # (N, T)
    start = 0
    for d_index, (dilation, f) in enumerate(
        zip(rocket.dilations, rocket.features_per_dilation, strict=True)
    ):
        for k in (0, 1, 83):
            weights = np.full(9, -1.0)
            weights[list(KERNEL_INDICES[k])] = 2.0
            pad = 4 * dilation
            padded = np.pad(series, ((0, 0), (pad, pad)))
            out = np.stack(
                [padded[:, t : t + 8 * dilation + 1 : dilation] @ weights for t in range(30)], 1
            )  # (N, T)
            if (k + d_index) % 2 == 1 and 30 > 2 * pad:  # alternate kernels: no padded steps
                out = out[:, pad : 30 - pad]
            bias = rocket.biases[d_index][k].double().numpy()  # (f,)
            expected = (out[:, :, None] > bias[None, None, :]).mean(1)  # (N, f)
            got = features[:, start + k * f : start + (k + 1) * f]
            np.testing.assert_allclose(got, expected, atol=1e-6)
        start += NUM_KERNELS * f


def test_steps_after_a_series_real_length_do_not_count() -> None:
    x = _series(5, 3, 50)
    lengths = torch.tensor([50, 20, 35, 9, 50])
    rocket = MiniRocket.fit(x, lengths, num_features=840, seed=0)
    other = x.clone()
    for i, n in enumerate(lengths.tolist()):
        other[i, :, n:] = 100.0  # anything after the real steps
    np.testing.assert_array_equal(rocket.transform(x, lengths), rocket.transform(other, lengths))
    assert not np.array_equal(rocket.transform(x, lengths), rocket.transform(other))


def test_a_seed_gives_the_same_kernels_and_another_seed_others() -> None:
    x = _series(8, 4, 60)
    a, b, c = (MiniRocket.fit(x, num_features=840, seed=s) for s in (1, 1, 2))
    np.testing.assert_array_equal(a.transform(x), b.transform(x))
    assert not np.array_equal(a.transform(x), c.transform(x))
    # each kernel sums over one to all of the 4 channels (multivariate)
    counts = torch.cat(a.channel_masks).sum(1)
    assert counts.min() >= 1 and counts.max() <= 4 and len(set(counts.tolist())) > 1


def test_bad_input_is_refused_with_the_shape() -> None:
    with pytest.raises(DataError, match=r"\(N, channels, steps\); received \(3, 10\)"):
        MiniRocket.fit(torch.zeros(3, 10))
    rocket = MiniRocket.fit(_series(4, 2, 20))
    with pytest.raises(DataError, match=r"\(N, 2, steps\).*received \(1, 3, 20\)"):
        rocket.transform(torch.zeros(1, 3, 20))
    with pytest.raises(DataError, match="two classes"):
        fit_rocket(_series(4), np.zeros(4, dtype=np.int64), classify=True, n_classes=2)


def test_rocket_on_gunpoint_predicts_the_official_test_split() -> None:
    ds = load_builtin("gunpoint")
    train = ~ds.is_test
    model = fit_rocket(ds.x[train], ds.y[train].numpy(), classify=True, n_classes=2, seed=0)
    probs = model.predict(ds.x[ds.is_test])  # (150, 2)
    assert probs.shape == (150, 2)
    np.testing.assert_allclose(probs.sum(1), 1.0)
    accuracy = float((probs.argmax(1) == ds.y[ds.is_test].numpy()).mean())
    assert accuracy >= 0.97  # published ROCKET: 1.000; a mean-pixel guess: 0.5
