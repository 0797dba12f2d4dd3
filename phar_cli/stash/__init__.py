"""Stash (layer 5; a self-hosted video organiser with a GraphQL API): push phar's segments as scene markers
and tags, pull the markers people made or flagged back as training annotations.

The modules, each with one job: `client` (GraphQL over HTTP, typed errors, retries), `api` (the
Stash queries and mutations phar uses), `oshash` (the file hash Stash stores), `settings` (per-label
rules), `paths` (library mounted at other places), `scene_markers` (the markers one analysis becomes, pure),
`sources` (what a push reads), `push` and `pull`. It reads `batch`'s catalog; nothing here imports typer or rich.
"""
