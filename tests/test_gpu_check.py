"""Tests for benchmarks/gpu_check.py's own verdicts: pytest's exit code, the resume tolerance, the peak per card."""

from __future__ import annotations

import importlib.util
import sys
from argparse import Namespace
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def gpu_check():
    spec = importlib.util.spec_from_file_location("gpu_check", ROOT / "benchmarks" / "gpu_check.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["gpu_check"] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("test_file", "ok", "said"),
    [("import not_a_module\nimport pytest\n\n@pytest.mark.cuda\ndef test_x():\n    pass\n", False,
      "pytest exited 2: 1 error"),  # a collection error, once reported as ok
     ("import pytest\n\n@pytest.mark.cuda\ndef test_x():\n    pass\n", True, "")],
)  # fmt: skip
def test_the_cuda_tests_part_is_ok_only_when_pytest_exits_0(gpu_check, tmp_path, monkeypatch, test_file, ok, said):
    """A real pytest run over a module marked cuda: a collection error or a failing test fails the part."""
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_mod.py").write_text(test_file)
    monkeypatch.setattr(gpu_check, "ROOT", tmp_path)
    result = gpu_check.run_part("cuda_tests", Namespace(fail=None, device="cpu"), {})
    assert result["ok"] is ok
    assert said in result.get("error", "") and result["returncode"] in (0, 1, 2)


@pytest.mark.parametrize(
    ("noise", "diff", "ok"),
    [(0.0, 0.0, True), (0.0, 1e-9, False), (1e-2, 2.9e-2, True), (1e-2, 3.1e-2, False), (9.9e-3, 1e-3, True)],
)
def test_a_resumed_run_is_judged_against_the_measured_noise(gpu_check, noise, diff, ok):
    assert gpu_check.resume_verdict({"G_AB": noise, "D_A": noise / 2}, {"G_AB": diff, "D_A": 0.0}, 3.0)[0] is ok


@pytest.mark.parametrize(
    ("name", "precision", "peak"),
    [("NVIDIA H100 80GB HBM3", "bf16", 989.4), ("NVIDIA H100 PCIe", "bf16", 756.0), ("NVIDIA H100 NVL", "bf16", 835.0),
     ("NVIDIA H100 PCIe", "fp32", 51.2), ("NVIDIA H200", "bf16", 989.4), ("NVIDIA A100-SXM4-80GB", "bf16", 312.0),
     ("NVIDIA A10", "bf16", 125.0), ("NVIDIA L4", "bf16", 121.0), ("NVIDIA L40S", "bf16", 362.1),
     ("Tesla V100-SXM2-16GB", "bf16", None), ("Tesla V100-SXM2-16GB", "fp16", 125.0), ("Tesla T4", "fp16", 65.0),
     ("Some Future GPU", "bf16", None)],
)  # fmt: skip
def test_mfu_is_taken_against_the_peak_of_that_card_and_precision(gpu_check, name, precision, peak):
    assert gpu_check.peak_tflops(name, precision) == peak


def test_an_injected_failure_is_reported_as_failed(gpu_check):
    assert gpu_check.run_part("speed", Namespace(fail="speed"), {})["ok"] is False
