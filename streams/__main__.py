"""``python -m streams`` = the ``flashpoint`` command."""

from streams.cli import main

main()
