"""``python -m streams`` = the ``flashpoint`` command."""

from streams.cli.main import main

main()
