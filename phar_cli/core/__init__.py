"""The inference core (layer 4): `Engine` decodes a video once, plans windows, batches them through
the streams, applies the seed's gates, fuses and refines boundaries; beside it the pure logic the
commands share (fusion, gates, windows, segments, tags, timelines, the predictions schema and the
analysis options table, `core.options`). It imports the base, `media` and `models`, never a writer
or the CLI."""
