"""`python -m routing …` = `tsur routing …` (same settings, same clean one-line errors)."""
import sys

from tsur.cli import app

app(["routing", *sys.argv[1:]], prog_name="tsur")
