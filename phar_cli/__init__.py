"""phar: what happens in a video, and when (RGB + skeleton + audio action recognition)."""
__version__ = "0.1.0"
