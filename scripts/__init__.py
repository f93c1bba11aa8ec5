"""Operational scripts run by CI and by hand (see the README, CI/CD)."""
