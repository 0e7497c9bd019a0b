"""Per-epoch and final evaluation of a run: sample grids, domain-classifier scores, FID/KID, metrics.json."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import torch

from core.config import TEST, ConfigError
from model.config import TrainConfig
from model.data import domain_dirs, list_images
from model.layout import RunDir
from model.logs import write_metrics
from model.metrics import (
    DomainClassifier,
    artifact_scores,
    domain_scores,
    fid_kid,
    load_stack,
    train_domain_classifier,
    translate_batch,
)

CLASSIFIER_TRAIN_LIMIT = 1000  # images per domain used to fit the domain classifier


class Evaluator:
    """Runs on rank 0. The classifier is fitted once per run on the train split and stored in the run folder."""

    def __init__(
        self, cfg: TrainConfig, run_dir: Path, train_A: list[Path], train_B: list[Path], device: torch.device
    ) -> None:
        self.cfg, self.run_dir, self.device = cfg, run_dir, device
        self.metrics_path = RunDir(run_dir).metrics
        try:
            test_A, test_B = domain_dirs(cfg.data_dir(), TEST)
            self.test_A, self.test_B = list_images(test_A)[0], list_images(test_B)[0]
        except ConfigError:
            self.test_A, self.test_B = [], []
        self.has_test = bool(self.test_A and self.test_B)
        if not self.has_test:
            print(
                "evaluation: no test/A and test/B images: metrics skipped, samples from the train split",
                file=sys.stderr,
            )
        sample_A = self.test_A or train_A
        sample_B = self.test_B or train_B
        self.sample_A = load_stack(sample_A[:8], cfg.image_size)[:2]  # the first two that load
        self.sample_B = load_stack(sample_B[:8], cfg.image_size)[:2]
        self.train_A, self.train_B = train_A, train_B
        self._classifier: DomainClassifier | None = None
        self.skipped: list = []  # test or train images that failed to load for evaluation

    def classifier(self) -> DomainClassifier:
        """The run's domain classifier: loaded from domain_classifier.pt, else fitted on the train split."""
        if self._classifier is None:
            path = RunDir(self.run_dir).domain_classifier
            clf = DomainClassifier()
            if path.is_file():
                clf.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
            else:
                x_A = load_stack(self.train_A, limit=CLASSIFIER_TRAIN_LIMIT, skipped=self.skipped)
                x_B = load_stack(self.train_B, limit=CLASSIFIER_TRAIN_LIMIT, skipped=self.skipped)
                clf = train_domain_classifier(x_A, x_B, seed=self.cfg.seed)
                path.parent.mkdir(parents=True, exist_ok=True)
                torch.save(clf.state_dict(), path)
            self._classifier = clf.eval()
        return self._classifier

    @torch.no_grad()
    def _translate(self, trainer, x: torch.Tensor, direction: str) -> torch.Tensor:
        G = trainer.model.G_AB if direction == "A2B" else trainer.model.G_BA
        with trainer.autocast():
            return translate_batch(G, x.contiguous(memory_format=trainer.memory_format), trainer.device)

    def samples(self, trainer) -> dict[str, torch.Tensor]:
        """real_A, fake_B, rec_A, real_B, fake_A, rec_B for the fixed sample images."""
        fake_B = self._translate(trainer, self.sample_A, "A2B")
        fake_A = self._translate(trainer, self.sample_B, "B2A")
        return {
            "real_A": self.sample_A,
            "fake_B": fake_B,
            "rec_A": self._translate(trainer, fake_B, "B2A"),
            "real_B": self.sample_B,
            "fake_A": fake_A,
            "rec_B": self._translate(trainer, fake_A, "A2B"),
        }

    def scores(self, trainer, limit: int | None) -> tuple[dict, tuple[torch.Tensor, ...]]:
        """Domain-classifier, checkerboard and structure scores on (up to `limit` of) the test images, translated at
        the training size."""
        n = len(self.skipped)
        real_A = load_stack(self.test_A, self.cfg.image_size, limit, self.skipped)
        real_B = load_stack(self.test_B, self.cfg.image_size, limit, self.skipped)
        for s in self.skipped[n:]:
            print(f"warning: evaluation skips {s.path}: {s.reason}", file=sys.stderr)
        fake_B, fake_A = self._translate(trainer, real_A, "A2B"), self._translate(trainer, real_B, "B2A")
        metrics = domain_scores(self.classifier(), real_A, real_B, fake_B, fake_A)
        metrics.update(artifact_scores(real_A, real_B, fake_B, fake_A))
        return metrics, (real_A, real_B, fake_A, fake_B)

    def epoch_metrics(self, trainer, epoch: int, st) -> dict | None:
        """Cheap per-epoch scores (eval_images per direction), appended to metrics.json."""
        if not (self.has_test and self.cfg.evaluate):
            return None
        metrics, _ = self.scores(trainer, self.cfg.eval_images)
        st.history.append({"epoch": epoch, "global_step": st.global_step, **metrics})
        self._write(st)
        return metrics

    def final(self, trainer, st) -> dict:
        """Scores on the whole test set plus FID/KID (when local Inception weights are given)."""
        if not self.cfg.evaluate:
            return {"skipped": "evaluation turned off (evaluate=False)"}
        if not self.has_test:
            return {"skipped": "no test images"}
        metrics, (real_A, real_B, fake_A, fake_B) = self.scores(trainer, None)
        fk = fid_kid(real_A, real_B, fake_A, fake_B, self.cfg.inception_weights, trainer.device)
        if "skipped" in fk:
            print(f"FID/KID skipped: {fk['skipped']}", file=sys.stderr)
        final = {"epoch": st.epoch, "global_step": st.global_step, **metrics, "fid_kid": fk}
        final["skipped_train_images"] = len(st.skipped)
        final["skipped_eval_images"] = len({s.path for s in self.skipped})
        self._write(st, final)
        return final

    def load_history(self, up_to_epoch: int) -> list[dict]:
        """Per-epoch entries already in metrics.json up to `up_to_epoch` (when resuming)."""
        if not self.metrics_path.is_file():
            return []
        data = json.loads(self.metrics_path.read_text(encoding="utf-8"))
        return [e for e in data.get("epochs", []) if e["epoch"] <= up_to_epoch]

    def _write(self, st, final: dict | None = None) -> None:
        best = max(st.history, key=lambda e: e["domain_score"], default=None)
        data = {"epochs": st.history, "best": best and {"epoch": best["epoch"], "domain_score": best["domain_score"]}}
        if final is not None:
            data["final"] = final
        write_metrics(self.metrics_path, data)
