"""Shared pytest configuration."""

# Notebooks and helpers under fixtures/ are test inputs, not tests: nbval must not collect them.
collect_ignore_glob = ["fixtures/*", "*/fixtures/*", "*/fixtures/**/*"]
