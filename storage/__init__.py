"""Storage: typed tables, migrations, and the save/claim functions each stage uses."""
