"""phar as a Stash plugin (raw interface): the manifest and its installer, the protocol Stash
speaks with a plugin process (JSON on standard input, level-prefixed log lines on standard
error, a JSON result on standard output), the plugin's settings and its tasks."""
