"""The Lightning callback: per-epoch reports, a clean stop of the Trainer, the recorded curve."""

from __future__ import annotations

import logging
import warnings

import pytest

torch = pytest.importorskip("torch")
lightning = pytest.importorskip("lightning.pytorch")

from propulate import ConfigurationError, MedianStoppingRule  # noqa: E402
from propulate.evaluation import evaluate  # noqa: E402
from propulate.integrations.lightning import PruningCallback  # noqa: E402
from propulate.population import Status  # noqa: E402

from .local_run import run_local  # noqa: E402

MAX_EPOCHS = 5


class Regression(lightning.LightningModule):
    def __init__(self, lr: float) -> None:
        super().__init__()
        self.layer = torch.nn.Linear(4, 1)
        self.lr = lr

    def training_step(self, batch, batch_idx):
        x, y = batch
        return torch.nn.functional.mse_loss(self.layer(x), y)

    def validation_step(self, batch, batch_idx):
        x, y = batch
        loss = torch.nn.functional.mse_loss(self.layer(x), y)
        self.log("val_loss", loss)
        self.log("val_score", -loss)

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=self.lr)


def loader(seed: int = 0):
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(64, 4, generator=generator)
    y = x @ torch.tensor([[1.0], [-2.0], [0.5], [3.0]])
    return torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=16)


def train(params, callback, sanity_steps: int = 0):
    logging.getLogger("lightning.pytorch").setLevel(logging.ERROR)
    trainer = lightning.Trainer(
        max_epochs=MAX_EPOCHS,
        accelerator="cpu",
        devices=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        num_sanity_val_steps=sanity_steps,
        callbacks=[callback],
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "does not have many workers" and the like
        trainer.fit(Regression(float(params["lr"])), loader(), loader(1))
    return trainer, float(trainer.callback_metrics["val_loss"])


def test_a_pruned_training_stops_after_the_epoch_it_was_told_to():
    state = {}

    def loss_fn(params):
        callback = PruningCallback(monitor="val_loss")
        state["trainer"], final = train(params, callback, sanity_steps=2)
        state["callback"] = callback
        return final

    outcome = evaluate(loss_fn, {"lr": 0.01}, should_stop=lambda step, value: step >= 2)
    trainer, callback = state["trainer"], state["callback"]
    assert outcome.status == Status.PRUNED and len(outcome.curve) == 2
    assert callback.pruned and callback.reported == outcome.curve  # sanity check not counted
    assert trainer.current_epoch == 2 < MAX_EPOCHS  # ended cleanly after epoch 2
    assert outcome.loss == outcome.curve[-1]


def test_without_a_rule_the_curve_is_recorded_and_mode_max_negates():
    def loss_fn(params):
        callback = PruningCallback(monitor="val_score", mode="max")
        _, final = train(params, callback)
        return final

    outcome = evaluate(loss_fn, {"lr": 0.01})
    assert outcome.status == Status.OK and len(outcome.curve) == MAX_EPOCHS
    assert all(v >= 0 for v in outcome.curve)  # -val_score = val_loss >= 0
    assert outcome.curve[-1] < outcome.curve[0]  # it learns


def test_a_propulator_prunes_lightning_trainings(tmp_path):
    def loss_fn(params):
        _, final = train(params, PruningCallback())
        return final

    (p,) = run_local(
        1,
        tmp_path,
        loss_fn=loss_fn,
        generations=8,
        limits={"lr": (1e-4, 0.05)},
        surrogate_factory=lambda: MedianStoppingRule(min_runs=2),
        timeout=120,
    )
    statuses = [ind.status for ind in p.population]
    assert statuses.count(Status.PRUNED) >= 1
    for ind in p.population:
        assert len(ind.curve) == MAX_EPOCHS or ind.status == Status.PRUNED


def test_settings_and_missing_metrics_are_reported():
    with pytest.raises(ConfigurationError, match="mode="):
        PruningCallback(mode="lowest")

    def loss_fn(params):
        _, final = train(params, PruningCallback(monitor="val_accuracy"))
        return final

    outcome = evaluate(loss_fn, {"lr": 0.01})
    assert outcome.status == Status.FAILED and "val_accuracy" in (outcome.error or "")
