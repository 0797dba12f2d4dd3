"""Similar scenes and recommendations over a `phar batch` library: `phar similar` ranks the
library's videos by what happens in them (profiles) and what they look like (looks) against one
video; `phar recommend` against what a viewer played, from Stash or a list of liked files."""
