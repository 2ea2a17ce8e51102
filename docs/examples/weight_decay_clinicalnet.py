"""Choose the weight decay of a small clinical MLP on validation loss (docs/weight-decay.md).

The network is the seeds' ``ClinicalNet`` (30 -> 64 -> 32 -> 1), trained on scikit-learn's
bundled breast-cancer data (569 patients, 30 features; no download). The loss is the mean
binary cross-entropy, the decay is coupled (``optimizer="adam"``), so each candidate
``weight_decay = wd`` minimizes, over the weights of the three Linear layers (biases excluded)
and in expectation over the minibatches::

    1/n * sum_i nll_i  +  wd/2 * ||W||^2      (i.e. ridgeway alpha = n * wd)

Run:  python docs/examples/weight_decay_clinicalnet.py [--epochs 200] [--out docs/images]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split
from torch import nn

from ridgeway.conventions import to_alpha
from ridgeway.nn import decay_table, select_weight_decay


class ClinicalNet(nn.Module):
    """The seeds' MLP; it returns logits (the sigmoid lives in the loss, for stability)."""

    def __init__(self, n_features: int) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(n_features, 64), nn.ReLU(),
            nn.Linear(64, 32), nn.ReLU(),
            nn.Linear(32, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def load_data(n_train: int = 100, seed: int = 0) -> tuple[tuple, tuple, tuple]:
    """Standardized train / validation / test tensors, scaled with training statistics.

    A small training set (100 patients, as in many clinical studies) so that the network can
    overfit; the other 469 patients are split in half for validation and test.
    """
    X, y = load_breast_cancer(return_X_y=True)
    X_tr, X_rest, y_tr, y_rest = train_test_split(X, y, train_size=n_train, stratify=y,
                                                  random_state=seed)
    X_va, X_te, y_va, y_te = train_test_split(X_rest, y_rest, test_size=0.5, stratify=y_rest,
                                              random_state=seed)
    mean, sd = X_tr.mean(axis=0), X_tr.std(axis=0)

    def as_tensors(X_, y_):
        return (torch.tensor((X_ - mean) / sd, dtype=torch.float32),
                torch.tensor(y_, dtype=torch.float32)[:, None])

    return as_tensors(X_tr, y_tr), as_tensors(X_va, y_va), as_tensors(X_te, y_te)


def main(epochs: int = 200, out: str | Path | None = "docs/images", verbose: bool = True):
    """Run the search; save the curves to ``out`` (None: no plot). Returns the search result."""
    train, val, test = load_data()
    n = len(train[0])
    if verbose:
        print(decay_table(ClinicalNet(30), 1e-3))
    grid = [0.0, *np.logspace(-3, 0, 7).tolist()]
    search = select_weight_decay(
        lambda: ClinicalNet(n_features=30), train, val,
        weight_decays=grid, loss=nn.BCEWithLogitsLoss(), optimizer="adam", lr=1e-3,
        epochs=epochs, batch_size=25, progress=False,
    )
    model = search.best_model
    with torch.no_grad():
        logits = model(test[0])
        test_loss = float(nn.functional.binary_cross_entropy_with_logits(logits, test[1]))
        accuracy = float(((logits > 0).float() == test[1]).float().mean())
    if verbose:
        for wd, v, t in zip(search.weight_decays, search.val_losses, search.train_losses,
                            strict=True):
            print(f"weight_decay={wd:<8.3g} train {t:.4f}  validation {v:.4f}")
        wd = search.best_weight_decay
        alpha = to_alpha(wd, "torch_adam", n=n, loss="log")
        print(f"best weight_decay = {wd:g}, i.e. ridgeway alpha = n * wd = {alpha:g} "
              f"(LogisticRegression-style C = {1 / alpha if alpha else float('inf'):.3g})")
        print(f"test loss {test_loss:.4f}, test accuracy {accuracy:.3f}")
    if out is not None:
        save_figure(search, Path(out))
    return search, test_loss, accuracy


def save_figure(search, out: Path) -> Path:
    """Validation curve and the best run's history, side by side, as a PNG in ``out``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ridgeway.inspection.history import plot_history, plot_weight_decay_search

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.2))
    plot_weight_decay_search(search, ax=ax1)
    ax1.set_title("ClinicalNet on breast cancer: loss vs weight decay")
    plot_history(search.histories[search.best_index], ax=ax2)
    ax2.set_title(f"training history at weight_decay = {search.best_weight_decay:g}")
    fig.tight_layout()
    out.mkdir(parents=True, exist_ok=True)
    path = out / "weight_decay_clinicalnet.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=200)
    parser.add_argument("--out", default="docs/images", help="folder for the PNG")
    args = parser.parse_args()
    main(epochs=args.epochs, out=args.out)
