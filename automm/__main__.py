"""``python -m automm`` runs the command line."""

from automm.cli import main

main()
