"""phar's shipped configs, as the package `phar_cli.configs` (pyproject.toml maps it onto this
folder): model configs (rgb/, skeleton/, audio/, det/, pose/: mmengine config files), label maps
(labels/*.txt) and the model manifest (models.json). Found with
`phar_cli.models.registry.config_dir()`; nothing here is meant to be imported."""
