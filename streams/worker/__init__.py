"""The Faust worker: the app, its agents (thin wiring of :mod:`streams.pipeline`), publishing,
metrics and health, and a helper to run a worker as a child process.
"""
