"""Operator tooling behind the ``flashpoint`` commands: topics, the contract files, produce,
tail, offline classify and the demo. Plain functions taking settings; none imports click (the
commands in :mod:`streams.cli` parse options and print)."""
