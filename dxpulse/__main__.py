"""``python -m dxpulse`` runs the CLI."""

from dxpulse.cli import main

main()
