"""Moved to `phar_cli.atomic` (every layer writes files atomically); kept for one release."""
from phar_cli.atomic import atomic_open, atomic_path, atomic_write_bytes, fsync_dir, is_temp_name  # noqa: F401
