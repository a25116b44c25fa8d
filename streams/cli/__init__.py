"""The ``flashpoint`` command line: thin click commands, one module per command group.

Each module parses options (shared ones in :mod:`streams.cli.base`), calls the logic in
:mod:`streams.admin`, :mod:`streams.training` or :mod:`streams.localkafka`, and prints.
"""
