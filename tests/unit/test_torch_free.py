"""Serving needs neither torch, scikit-learn, matplotlib nor click; without torch, the torch
backend and the encoder export say which extra to install."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TRAINING_ONLY = ("torch", "sklearn", "matplotlib", "click")


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120, check=False
    )


def test_importing_the_serving_modules_imports_no_training_library() -> None:
    code = (
        "import json, sys\n"
        "import streams.classifier, streams.classifier.classifier, streams.classifier.encoder\n"
        f"print(json.dumps([m for m in {TRAINING_ONLY!r} if m in sys.modules]))\n"
    )
    result = _run(code)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == []


@pytest.mark.parametrize(
    ("call", "purpose"),
    [
        ("TorchEncoder()", "the torch encoder backend"),
        ("export_onnx('', Path('unused.onnx'))", "exporting the encoder"),
    ],
)
def test_without_torch_the_error_names_the_extra(call: str, purpose: str) -> None:
    code = (
        "import sys\n"
        "sys.modules['torch'] = None  # makes `import torch` fail, as when it is not installed\n"
        "from pathlib import Path\n"
        "from streams.classifier.encoder import TorchEncoder, export_onnx\n"
        "try:\n"
        f"    {call}\n"
        "except ImportError as e:\n"
        "    print(e)\n"
        "else:\n"
        "    print('no error')\n"
    )
    result = _run(code)
    assert result.returncode == 0, result.stderr
    assert purpose in result.stdout
    assert "install flashpoint[torch]" in result.stdout
