"""One writer per timestamps format, chosen by name: `get_writer("srt").write(analysis, segments, path)`."""
from __future__ import annotations

from phar_cli.errors import UsageError
from phar_cli.atomic import atomic_open, atomic_write_bytes
from phar_cli.outputs.base import Writer
from phar_cli.outputs.json_writer import JsonWriter
from phar_cli.outputs.text_writers import (CsvWriter, EdlWriter, FFMetadataWriter, SrtWriter,
                                           VttWriter, format_timestamp)

_WRITERS: dict[str, type[Writer]] = {
    w.name: w for w in (JsonWriter, CsvWriter, SrtWriter, VttWriter, FFMetadataWriter, EdlWriter)
}
FORMATS: tuple[str, ...] = tuple(_WRITERS)


def get_writer(name: str) -> Writer:
    try:
        return _WRITERS[name.strip().lower()]()
    except KeyError:
        raise UsageError(f"unknown output format {name!r} (choose from {', '.join(FORMATS)})") from None


__all__ = ["FORMATS", "Writer", "atomic_open", "atomic_write_bytes", "format_timestamp", "get_writer"]
