"""Paired-truth quality benchmark: recipes trained at equal CPU time on unpaired renders, scored against the truth.

Each renderer (benchmarks/paired/) draws street scenes twice, green and in blossom, with the same geometry, light
and camera. Training sees unpaired images (A: green renders of some scenes, B: blossom renders of other scenes);
the test scenes' blossom renders are the answer the A->B translations are scored against (benchmarks/paired/score.py).
Every recipe trains in its own process on one thread for the same CPU-second budget (its step count is calibrated
on its own first steps), so the comparison holds on a loaded machine; results land in --work and a rerun only
trains what is missing. Prints the table (mean +- spread over seeds) and, with --write-docs, writes it to
docs/benchmarks/generated/ with example rows to docs/images/.

    .venv/bin/python benchmarks/bench_quality.py --renderer alley --recipes seed,project --seeds 0,1,2 \
        --cpu-seconds 900 --jobs 2 --write-docs
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import shlex
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from PIL import Image

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from paired import RENDERERS, TUNED_ON, renderer  # noqa: E402
from paired.score import colour_distance, score_scene, summarise  # noqa: E402

from core.images import load_rgb  # noqa: E402
from curation.config import CurationConfig  # noqa: E402

TRAIN_SCENES, TEST_SCENES, QUALITY = 200, 40, 95
SIDE = CurationConfig.model_fields["load_size"].default  # the size curation stores a dataset at (286 px)
TRAIN_A_SEEDS, TRAIN_B_SEEDS, TEST_SEEDS = 0, 100_000, 200_000  # disjoint scenes: A and B never pair up
CALIBRATION_STEPS = 8
STALE_LEVELS = 4.0  # mean difference (0-255) beyond which a stored render is not the renderer's (JPEG: about 1)
BINS = 32  # the colour bins of the one-colour-map bound
BOUND = "bound: one colour map for every scene (a canopy pixel's colour -> the truth), fitted on the answers"
# Recipes: "seed" is the seed project's loop (benchmarks/seed_recipe.py); the others are `sakura train` with the cpu
# profile and these overrides ("project": the profile as it is now; "before": the cpu profile before issue 32).
RECIPES: dict[str, dict | None] = {
    "seed": None,
    "project": {},
    "before": {"load_size": 72, "output": "image", "diff_augment": False, "lambda_identity": 0.5},
    "native": {"load_size": SIDE, "output": "image"},
    "masked": {"load_size": SIDE, "output": "masked"},
    "masked-idt1": {"load_size": SIDE, "output": "masked", "lambda_identity": 1.0},
    "native-idt1": {"load_size": SIDE, "output": "image", "lambda_identity": 1.0},
    "masked-aug": {"load_size": SIDE, "output": "masked", "diff_augment": True},
    "masked-72": {"load_size": 72, "output": "masked"},
    "masked-cyc5": {"load_size": 72, "output": "masked", "lambda_cycle": 5.0},
    "masked-cyc2": {"load_size": 72, "output": "masked", "lambda_cycle": 2.0},
    "masked-idt0": {"load_size": 72, "output": "masked", "lambda_identity": 0.0},
    "masked-lr4": {"load_size": 72, "output": "masked", "lr": 4e-4},
    "native-aug": {"load_size": SIDE, "output": "image", "diff_augment": True},
    "paired": {},
}
PAIRED = {"paired"}  # bounds: the generator trained with the answers (paired renders), not a CycleGAN
LABELS = {
    "seed": "seed's recipe: aitorzip's loop, ResNet-9 ngf 64, fp32, deconv, 64 px crops of 71 px",
    "project": "project's cpu profile (now)",
    "before": "cpu profile before: 64 px crops of 72 px, ResNet-6 ngf 32, bf16, resize, image output",
    "native": "before, with crops of the full-size image",
    "masked": "before, masked output, crops of the full-size image",
    "masked-aug": "masked, with DiffAugment",
    "masked-72": "before, masked output (= the cpu profile now)",
    "masked-cyc5": "the cpu profile now, cycle weight 5 (not 10)",
    "masked-cyc2": "the cpu profile now, cycle weight 2 (not 10)",
    "masked-idt0": "the cpu profile now, no identity loss",
    "masked-lr4": "the cpu profile now, learning rate 4e-4 (not 2e-4)",
    "paired": "bound: the cpu profile's generator trained with the answers (200 paired renders, L1), same CPU time",
}
METRICS = (
    ("canopy_error", "canopy error vs truth (Delta E)", "{:.1f}"),
    ("mean_offset", "canopy mean colour vs truth's (Delta E)", "{:.1f}"),
    ("lightness", "canopy lightness vs truth (Delta L)", "{:+.1f}"),
    ("outside", "change outside the canopy (Delta E)", "{:.2f}"),
    ("outside_x_floor", "outside / JPEG floor", "{:.2f}"),
    ("nearer", "canopy pixels nearer the truth", "{:.1%}"),
    ("colour", "canopy colour distance (Delta E)", "{:.1f}"),
    ("checkerboard", "checkerboard (1 = none)", "{:.2f}"),
    ("structure", "structure (1 = edges kept)", "{:.3f}"),
)


def cpu_seconds() -> float:
    """User + system CPU time of this process."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


# ---- the data ---------------------------------------------------------------------------------------------------


def build(name: str, work: Path) -> Path:
    """Render the dataset once: dataset/{train,test}/{A,B} as JPEG (as curation stores images), truth/ as PNG."""
    root = work / name
    done = root / "built.json"
    if done.is_file():
        return root
    render = renderer(name)
    for sub in ("dataset/train/A", "dataset/train/B", "dataset/test/A", "dataset/test/B", "truth"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    for k in range(TRAIN_SCENES):
        render(TRAIN_A_SEEDS + k, SIDE)[0].save(root / f"dataset/train/A/{k:04d}.jpg", quality=QUALITY)
        render(TRAIN_B_SEEDS + k, SIDE)[1].save(root / f"dataset/train/B/{k:04d}.jpg", quality=QUALITY)
    for k in range(TEST_SCENES):
        green, blossom, canopy = render(TEST_SEEDS + k, SIDE)
        green.save(root / f"dataset/test/A/{k:04d}.jpg", quality=QUALITY)
        blossom.save(root / f"dataset/test/B/{k:04d}.jpg", quality=QUALITY)
        blossom.save(root / f"truth/{k:04d}.png")
        Image.fromarray(canopy.astype(np.uint8) * 255).save(root / f"truth/{k:04d}_canopy.png")
    done.write_text(json.dumps({"renderer": name, "train": TRAIN_SCENES, "test": TEST_SCENES, "side": SIDE}))
    return root


def _files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.jpg"))


def test_set(root: Path) -> tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]]:
    """The test scenes as stored (the inputs a model reads, uint8 RGB), their blossom truths and canopy masks."""
    tests = _files(root / "dataset/test/A")
    inputs = [np.asarray(load_rgb(p)) for p in tests]
    truths = [np.asarray(Image.open(root / f"truth/{k:04d}.png").convert("RGB")) for k in range(len(tests))]
    canopies = [np.asarray(Image.open(root / f"truth/{k:04d}_canopy.png")) > 127 for k in range(len(tests))]
    return inputs, truths, canopies


def score_set(inputs: list, outs: list, truths: list, canopies: list) -> dict[str, float]:
    """Every score of a set of translations: the per-scene means, the canopy colour distance, outside / floor."""
    scenes = [score_scene(*scene) for scene in zip(inputs, outs, truths, canopies, strict=True)]
    summary = summarise(scenes)
    summary["colour"] = colour_distance(outs, truths, canopies)
    summary["outside_x_floor"] = summary["outside"] / summary["floor"]
    return summary


# ---- one training run (a child process) -----------------------------------------------------------------------


def _train_seed(root: Path, seed: int, budget: float, out: Path) -> tuple[Path, int, float]:
    import torch
    from seed_recipe import SeedTrainer, seed_transform, train_seed

    files_A, files_B = _files(root / "dataset/train/A"), _files(root / "dataset/train/B")
    trainer, g = SeedTrainer(seed, 1, 1), torch.Generator().manual_seed(seed)
    ims = [Image.open(p).convert("RGB") for p in (files_A[0], files_B[0])]
    for k in range(CALIBRATION_STEPS):
        if k == 2:
            t0 = cpu_seconds()
        trainer.step(*(seed_transform(im, 64, g)[None] for im in ims))
    steps = max(1, int(budget / ((cpu_seconds() - t0) / (CALIBRATION_STEPS - 2))))
    t0 = cpu_seconds()
    path = train_seed(files_A, files_B, 64, steps, seed, out / "G_AB.pt")
    return path, steps, cpu_seconds() - t0


def _train_project(root: Path, recipe: str, seed: int, budget: float, out: Path) -> tuple[Path, int, float]:
    import torch

    from model.config import TrainConfig, resolve
    from model.data import UnalignedDataset
    from model.engine import CycleGANTrainer
    from model.training import train

    files_A, files_B = _files(root / "dataset/train/A"), _files(root / "dataset/train/B")
    base = TrainConfig(dataset_dir=root / "dataset", profile="cpu", seed=seed, evaluate=False, progress_bar=False,
                       num_workers=0, run=f"{recipe}-{seed}", **RECIPES[recipe])  # fmt: skip
    cfg, _ = resolve(base, torch.device("cpu"))
    trainer, ds = CycleGANTrainer(cfg, torch.device("cpu")), UnalignedDataset(files_A, files_B, cfg.load_size,
                                                                               cfg.image_size, seed)  # fmt: skip
    for k in range(CALIBRATION_STEPS):
        if k == 2:
            t0 = cpu_seconds()
        batch = ds[(0, k)]
        trainer.train_step(batch["A"][None], batch["B"][None])
    steps = max(1, int(budget / ((cpu_seconds() - t0) / (CALIBRATION_STEPS - 2))))
    epochs = max(2, math.ceil(steps / len(files_A)))
    per_epoch = math.ceil(steps / epochs)
    cfg = base.replace(epochs=epochs, decay_epoch=epochs // 2, max_iters_per_epoch=per_epoch)
    del trainer
    t0 = cpu_seconds()
    result = train(cfg)
    return result.run_dir, per_epoch * epochs, cpu_seconds() - t0


def build_paired(root: Path, name: str) -> Path:
    """The blossom renders of the training A scenes (the answers the unpaired recipes never see), for the paired
    bound: paired/B/<k>.jpg beside dataset/train/A/<k>.jpg."""
    folder, done, side = root / "paired/B", root / "paired/built.json", built_side(root)  # the side of their A
    if not done.is_file() or json.loads(done.read_text())["side"] != side:
        render = renderer(name)
        stored = np.asarray(load_rgb(_files(root / "dataset/train/A")[0]), np.float64)
        if np.abs(stored - np.asarray(render(TRAIN_A_SEEDS, side)[0], np.float64)).mean() > STALE_LEVELS:
            raise SystemExit(
                f"{root}: its renders were made by another version of the {name} renderer (the first training scene "
                "differs from a fresh render); render a fresh set with another --work"
            )
        folder.mkdir(parents=True, exist_ok=True)
        for k in range(TRAIN_SCENES):
            render(TRAIN_A_SEEDS + k, side)[1].save(folder / f"{k:04d}.jpg", quality=QUALITY)
        done.write_text(json.dumps({"renderer": name, "scenes": TRAIN_SCENES, "side": side}))
    return folder


def _train_paired(root: Path, recipe: str, seed: int, budget: float, out: Path) -> tuple[Path, int, float]:
    """The cpu profile's generator trained with the answers: each green training render with its own blossom render,
    the same crop of both, L1 to the blossom render (Adam, the profile's learning rate and schedule)."""
    import torch
    import torchvision.transforms.functional as TF
    from torchvision.transforms import InterpolationMode

    from model.checkpoint import export_generator
    from model.config import TrainConfig, resolve
    from model.data import to_tensor
    from model.losses import lr_factor
    from model.networks import ResnetGenerator

    cfg, _ = resolve(TrainConfig(dataset_dir=root / "dataset", profile="cpu", seed=seed, **RECIPES[recipe]),
                     torch.device("cpu"))  # fmt: skip
    torch.manual_seed(seed)
    G = ResnetGenerator(cfg.net_config())
    opt = torch.optim.Adam(G.parameters(), lr=cfg.lr, betas=(cfg.beta1, cfg.beta2))
    pairs = [
        tuple(TF.resize(load_rgb(p), cfg.load_size, interpolation=InterpolationMode.BICUBIC) for p in pair)
        for pair in zip(_files(root / "dataset/train/A"), _files(root / "paired/B"), strict=True)
    ]
    g = torch.Generator().manual_seed(seed)

    def step(lr: float) -> None:
        a, b = pairs[int(torch.randint(len(pairs), (1,), generator=g))]
        w, h = a.size
        top, left = (int(torch.randint(0, n - cfg.image_size + 1, (1,), generator=g)) for n in (h, w))
        flip = torch.rand(1, generator=g).item() < 0.5
        x, y = (to_tensor(TF.hflip(c) if flip else c)[None] for c in
                (TF.crop(im, top, left, cfg.image_size, cfg.image_size) for im in (a, b)))  # fmt: skip
        for group in opt.param_groups:
            group["lr"] = lr
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=cfg.precision == "bf16"):
            loss = (G(x).float() - y).abs().mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    for k in range(CALIBRATION_STEPS):
        if k == 2:
            t0 = cpu_seconds()
        step(cfg.lr)
    steps = max(1, int(budget / ((cpu_seconds() - t0) / (CALIBRATION_STEPS - 2))))
    t0 = cpu_seconds()
    for k in range(steps):  # the profile's schedule: constant, then linear to 0 over the second half
        step(cfg.lr * lr_factor(k, steps, steps // 2))
    path = export_generator(out / "G_AB.pt", G.state_dict(), cfg.net_config(), "A2B", {"recipe": recipe})
    return path, steps, cpu_seconds() - t0


def child(name: str, recipe: str, seed: int, budget: float, work: Path) -> None:
    """Train one (recipe, seed) on one thread within the budget, translate the test set as `sakura translate` does,
    score it and write result.json (and the translations, for the example rows)."""
    import torch

    from model.checkpoint import load_generator
    from model.translation import TranslateConfig, Translator, pick_precision

    torch.set_num_threads(1)
    root, out = work / name, work / name / "runs" / f"{recipe}-{seed}"
    out.mkdir(parents=True, exist_ok=True)
    if RECIPES[recipe] is None:
        gen, steps, spent = _train_seed(root, seed, budget, out)
    elif recipe in PAIRED:
        gen, steps, spent = _train_paired(root, recipe, seed, budget, out)
    else:
        gen, steps, spent = _train_project(root, recipe, seed, budget, out)
    G, _ = load_generator(gen, "A2B")
    device = torch.device("cpu")
    translator = Translator(G, device, pick_precision(TranslateConfig().precision, device))
    inputs, truths, canopies = test_set(root)
    outs = [np.asarray(im) for im in translator.translate_images([Image.fromarray(x) for x in inputs])]
    for k, got in enumerate(outs):
        Image.fromarray(got).save(out / f"{k:04d}.png")
    summary = score_set(inputs, outs, truths, canopies)
    result = {"renderer": name, "recipe": recipe, "seed": seed, "budget": budget, "cpu_s": spent, "steps": steps,
              "scores": summary, "generator": str(gen)}  # fmt: skip
    (out / "result.json").write_text(json.dumps(result, indent=1))


# ---- the parent: run what is missing, then the table ------------------------------------------------------------


def reference_rows(root: Path) -> dict[str, dict]:
    """Scores of the input left unchanged, of the truth itself (the floor of every measure), and of three oracles
    that know the answer but keep no more than a model could: each scene's canopy painted flat in the mean colour of
    its own truth, every canopy in the mean colour of all of them, and each canopy's input pixels recoloured by the
    one affine colour map (RGB -> RGB, least squares) that brings them nearest their truth: the texture the input
    already has, in the truth's colours."""
    inputs, truths, canopies = test_set(root)
    every = np.concatenate([t[c] for t, c in zip(truths, canopies, strict=True)]).mean(0)

    def flat(inp: np.ndarray, truth: np.ndarray, canopy: np.ndarray, colour: np.ndarray | None) -> np.ndarray:
        out = inp.copy()
        out[canopy] = np.round(truth[canopy].mean(0) if colour is None else colour).astype(np.uint8)
        return out

    def mapped(inp: np.ndarray, truth: np.ndarray, canopy: np.ndarray) -> np.ndarray:
        x = np.c_[inp[canopy].astype(np.float64), np.ones(int(canopy.sum()))]  # (n, 4): RGB and 1
        coef, *_ = np.linalg.lstsq(x, truth[canopy].astype(np.float64), rcond=None)
        out = inp.copy()
        out[canopy] = np.clip(np.round(x @ coef), 0, 255).astype(np.uint8)
        return out

    # One colour map for every scene: each canopy pixel's input colour (bins of 8 levels a channel) -> the mean truth
    # colour of that bin over all test canopies, fitted on the answers themselves (so optimistic).
    bins = np.concatenate([_colour_bin(inp[c]) for inp, c in zip(inputs, canopies, strict=True)])
    sums = np.zeros((BINS**3, 3))
    np.add.at(sums, bins, np.concatenate([t[c] for t, c in zip(truths, canopies, strict=True)]).astype(np.float64))
    lut = sums / np.maximum(np.bincount(bins, minlength=BINS**3), 1)[:, None]

    def one_map(inp: np.ndarray, truth: np.ndarray, canopy: np.ndarray) -> np.ndarray:
        out = inp.copy()
        out[canopy] = np.round(lut[_colour_bin(inp[canopy])]).astype(np.uint8)
        return out

    picks = {
        "input unchanged": lambda inp, truth, canopy: inp,
        "the truth": lambda inp, truth, canopy: truth,
        "oracle: each canopy flat in its truth's mean colour": lambda inp, truth, canopy: flat(
            inp, truth, canopy, None
        ),
        "oracle: every canopy flat in one mean colour": lambda inp, truth, canopy: flat(inp, truth, canopy, every),
        "oracle: each canopy's input recoloured by its truth's best affine colour map": mapped,
        BOUND: one_map,
    }
    rows = {}
    for label, pick in picks.items():
        outs = [pick(*scene) for scene in zip(inputs, truths, canopies, strict=True)]
        rows[label] = score_set(inputs, outs, truths, canopies)
    return rows


def _colour_bin(rgb: np.ndarray) -> np.ndarray:
    """(n, 3) uint8 -> (n,) index of its colour's bin (BINS levels a channel)."""
    q = rgb.astype(np.int64) * BINS // 256
    return (q[:, 0] * BINS + q[:, 1]) * BINS + q[:, 2]


def run_missing(name: str, plan: dict[str, list[int]], budget: float, work: Path, jobs: int) -> None:
    todo = [(r, s) for r, seeds in plan.items() for s in seeds
            if not (work / name / "runs" / f"{r}-{s}" / "result.json").is_file()]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "SAKURA_THREADS": "1"}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)

    def one(job: tuple[str, int]) -> None:
        recipe, seed = job
        log = work / name / "runs" / f"{recipe}-{seed}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, __file__, "_child", name, recipe, str(seed), str(budget), str(work)]
        t0 = time.time()
        with log.open("w") as f:
            rc = subprocess.run(cmd, env=env, stdout=f, stderr=subprocess.STDOUT).returncode
        print(f"  {name} {recipe} seed {seed}: {'done' if rc == 0 else f'FAILED (rc {rc}, see {log})'} "
              f"in {time.time() - t0:.0f} s wall", flush=True)  # fmt: skip

    print(f"{name}: training {len(todo)} run(s) of {budget:.0f} CPU-s each, {jobs} at a time", flush=True)
    with ThreadPoolExecutor(jobs) as pool:
        list(pool.map(one, todo))


def load_results(name: str, plan: dict[str, list[int]], work: Path) -> dict[str, list[dict]]:
    """Every finished run's result; a run scored before a score was added is scored again from its saved
    translations (the scores' keys are those of the current scorer)."""
    out, want, test = {}, {k for k, _, _ in METRICS}, None
    for r, seeds in plan.items():
        out[r] = []
        for s in seeds:
            f = work / name / "runs" / f"{r}-{s}" / "result.json"
            if not f.is_file():
                continue
            result = json.loads(f.read_text())
            if not want <= set(result["scores"]):
                test = test or test_set(work / name)
                outs = [np.asarray(load_rgb(f.parent / f"{k:04d}.png")) for k in range(len(test[0]))]
                result["scores"] = score_set(test[0], outs, *test[1:])
                f.write_text(json.dumps(result, indent=1))
            out[r].append(result)
    return out


def _cell(values: list[float], fmt: str) -> str:
    if len(values) == 1:
        return fmt.format(values[0])
    spread = fmt.replace("+", "")  # a spread has no sign
    return f"{fmt.format(float(np.mean(values)))} ± {spread.format(float(np.std(values, ddof=1)))}"


def table(name: str, results: dict[str, list[dict]], refs: dict[str, dict]) -> str:
    head = ["recipe", "seeds", "CPU-s", "steps"] + [title for _, title, _ in METRICS]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for label, s in refs.items():
        lines.append("| " + " | ".join([label, "-", "-", "-"] + [fmt.format(s[k]) for k, _, fmt in METRICS]) + " |")
    for recipe, runs in results.items():
        if not runs:
            continue
        cells = [LABELS.get(recipe, recipe), ",".join(str(r["seed"]) for r in runs),
                 _cell([r["cpu_s"] for r in runs], "{:.0f}"), _cell([r["steps"] for r in runs], "{:.0f}")]  # fmt: skip
        cells += [_cell([r["scores"][k] for r in runs], fmt) for k, _, fmt in METRICS]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def built_side(root: Path) -> int:
    """The side the renders of `root` were made at (recorded when they were built)."""
    return int(json.loads((root / "built.json").read_text())["side"])


def examples(name: str, recipes: list[str], seed: int, work: Path, rows: int = 4) -> Image.Image:
    """Rows of test scenes: input | each recipe's translation (training seed `seed`) | truth."""
    root = work / name
    SIDE = built_side(root)  # noqa: N806
    tests = _files(root / "dataset/test/A")[:rows]
    cols = len(recipes) + 2
    sheet = Image.new("RGB", (cols * SIDE + (cols - 1) * 4, len(tests) * SIDE + (len(tests) - 1) * 4), "white")
    for k, p in enumerate(tests):
        ims = [Image.open(p)] + [Image.open(root / "runs" / f"{r}-{seed}" / f"{k:04d}.png") for r in recipes]
        ims.append(Image.open(root / f"truth/{k:04d}.png"))
        for c, im in enumerate(ims):
            sheet.paste(im.convert("RGB").resize((SIDE, SIDE)), (c * (SIDE + 4), k * (SIDE + 4)))
    return sheet


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "_child":
        name, recipe, seed, budget, work = argv[1:]
        child(name, recipe, int(seed), float(budget), Path(work))
        return 0
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--renderer", choices=RENDERERS, default=[r for r in RENDERERS if r != TUNED_ON][0])
    ap.add_argument("--recipes", default="seed,project", help=f"comma-separated, of: {', '.join(RECIPES)}")
    ap.add_argument("--seeds", default="0,1,2", help="training seeds (the table reports mean ± spread)")
    ap.add_argument("--seeds-for", action="append", default=[], metavar="RECIPE=SEEDS",
                    help="other seeds for one recipe, e.g. masked-cyc2=0,1,2 (repeatable)")  # fmt: skip
    ap.add_argument("--cpu-seconds", type=float, default=900.0, help="CPU-second budget of every training run")
    ap.add_argument("--jobs", type=int, default=2, help="training processes at a time (each on one thread)")
    ap.add_argument("--work", type=Path, default=Path("/tmp/sakura-quality"), help="renders, runs and results")
    ap.add_argument("--write-docs", action="store_true", help="write the table and example rows into docs/")
    args = ap.parse_args(argv)
    recipes, seeds = args.recipes.split(","), [int(s) for s in args.seeds.split(",")]
    plan = {r: seeds for r in recipes}
    for spec in args.seeds_for:
        recipe, _, own = spec.partition("=")
        if recipe not in plan or not own:
            ap.error(f"--seeds-for: got {spec!r}; want RECIPE=SEEDS with RECIPE one of --recipes")
        plan[recipe] = [int(s) for s in own.split(",")]
    unknown = [r for r in recipes if r not in RECIPES]
    if unknown:
        ap.error(f"--recipes: got {','.join(unknown)}; allowed: {', '.join(RECIPES)}")
    t0 = time.time()
    root = build(args.renderer, args.work)
    print(f"{args.renderer}: {TRAIN_SCENES} + {TRAIN_SCENES} training renders, {TEST_SCENES} test scenes in {root} "
          f"({time.time() - t0:.0f} s)", flush=True)  # fmt: skip
    if PAIRED & set(recipes):
        build_paired(root, args.renderer)
    run_missing(args.renderer, plan, args.cpu_seconds, args.work, args.jobs)
    results = load_results(args.renderer, plan, args.work)
    tuned = "tuned on it" if args.renderer == TUNED_ON else "held out: no recipe was tuned on it"
    side = built_side(root)
    budgets = (
        "one thread a run; CPU-second budgets: "
        + ", ".join(
            f"{r} {'/'.join(f'{b:.0f}' for b in sorted({run['budget'] for run in runs}))}"
            for r, runs in results.items()
            if runs
        )
        + " (the CPU-s column is what each run used)"
    )
    md = table(args.renderer, results, reference_rows(root))
    print(f"\nrenderer {args.renderer} ({tuned}); {TRAIN_SCENES} unpaired images a domain, {TEST_SCENES} test scenes "
          f"at {side} px; {budgets}\n\n{md}")  # fmt: skip
    if args.write_docs:
        cmd = "python benchmarks/bench_quality.py " + shlex.join(argv)
        stamp = datetime.now(UTC).strftime("%Y-%m-%d")
        doc = ROOT / "docs/benchmarks/generated" / f"bench_quality_{args.renderer}.md"
        doc.parent.mkdir(parents=True, exist_ok=True)
        doc.write_text(f"Printed by `{cmd}` on {stamp} (renderer `{args.renderer}`, {tuned}; "
                       f"{TRAIN_SCENES} unpaired training images a domain, {TEST_SCENES} test scenes at {side} px, "
                       f"{budgets}).\n\n{md}\n")  # fmt: skip
        img = ROOT / "docs/images" / f"quality_{args.renderer}.png"
        img.parent.mkdir(parents=True, exist_ok=True)
        examples(args.renderer, [r for r in recipes if results[r]], seeds[0], args.work).save(img)
        print(f"\nwrote {doc.relative_to(ROOT)} and {img.relative_to(ROOT)} (input | {' | '.join(recipes)} | truth)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
