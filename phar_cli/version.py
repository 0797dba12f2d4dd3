"""phar's version, in the base layer so that any module (a download's User-Agent) can say it."""
__version__ = "0.1.0"
