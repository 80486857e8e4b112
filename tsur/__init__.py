"""tsur-monitor: collect, understand and route citizens' complaints for a regional feedback centre."""
__version__ = "0.1.0"
