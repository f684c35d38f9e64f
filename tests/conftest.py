"""Test-wide settings: integration fixtures live in tests/integration/conftest.py."""
