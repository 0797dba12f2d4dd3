"""Moved to `phar_cli.spans` (media, core and outputs share it); kept for one release."""
from phar_cli.spans import Span  # noqa: F401
