"""`python -m pocketkube ...` (used by tests to start components as processes)."""
import sys

from .main import main

sys.exit(main())
