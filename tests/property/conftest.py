"""Hypothesis profile for the bad-input proofs: modest, derandomised (reproducible in CI), no deadline."""
from hypothesis import HealthCheck, settings

settings.register_profile("tsur", max_examples=120, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                                 HealthCheck.function_scoped_fixture])
settings.load_profile("tsur")
