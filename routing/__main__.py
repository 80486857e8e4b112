"""`python -m routing …`."""
from routing.cli import app

app()
