"""Command-line helpers too large for `phar_cli/cli.py`: Rich views of library results. Only the
CLI imports this package (it may use rich); the library never does."""
