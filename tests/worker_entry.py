"""A worker for tests that need to hold the model back: ``python -m tests.worker_entry FIFO``.

It is the real app (``build_app``) with the real classifier, except that loading the model
waits until the test writes to the named pipe FIFO, so a test can observe the worker before
its model is loaded. Settings come from the environment as for ``flashpoint worker``.
"""

from __future__ import annotations

import sys

import faust

from streams.classifier.base import Classifier
from streams.config import ClassifierSettings, get_settings
from streams.worker.app import build_app, default_classifier_loader


def main() -> None:
    fifo = sys.argv[1]

    def gated_loader(settings: ClassifierSettings) -> Classifier:
        with open(fifo, encoding="utf-8") as gate:  # blocks until the test opens the gate
            gate.read()
        return default_classifier_loader(settings)

    settings = get_settings()
    app = build_app(settings, gated_loader)
    faust.Worker(app, loglevel="info").execute_from_commandline()


if __name__ == "__main__":
    main()
