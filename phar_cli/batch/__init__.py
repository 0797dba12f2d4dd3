"""`phar batch`: a whole video library, resumable, on a local process pool or a Ray cluster.

The pieces, each small: `inputs` (which videos: a folder walk or a manifest), `catalog` (the
SQLite record in OUTDIR that makes a run resumable), `plan` (what a run has to do, from the
inputs and the catalog), `outputs` (each video's files, written atomically), `executors` (where
analyses run: `local` or `ray`), `worker` (what runs there: one Engine per worker, reused for
every video, returning plain dicts), `runner` (the driver: dispatches, writes, records; the only
process that writes files or the catalog) and `report` (a summary from the catalog alone).
No typer or rich here: the CLI renders the runner's events.
"""
