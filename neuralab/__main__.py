"""``python -m neuralab`` runs the ``neuralab`` command (for environments without its script)."""

from neuralab.cli import main

raise SystemExit(main())
