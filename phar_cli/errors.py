"""The errors phar raises. The CLI prints any of them as one line and exits 1 (2 for usage)."""


class PharError(Exception):
    """Base of every error phar reports to a user."""

    exit_code = 1


class UsageError(PharError):
    """Options that do not fit together or cannot be parsed."""

    exit_code = 2


class VideoOpenError(PharError):
    """A file that is missing, empty, truncated or not a video."""


class AudioDecodeError(PharError):
    """The audio track exists but cannot be decoded."""


class ToolNotFound(PharError):
    """An external program (ffmpeg, ffprobe) cannot be found."""


class FFmpegError(PharError):
    """ffmpeg or ffprobe ran and failed; the message carries its stderr tail."""


class ModelLoadError(PharError):
    """A config, checkpoint or label map that cannot be used."""


class ModelNotFound(ModelLoadError):
    """A model file that was looked for and is not there."""


class LabelMapError(ModelLoadError):
    """A label map that does not match what a model predicts."""


class DownloadError(PharError):
    """A model download that failed, was cut off or has the wrong checksum."""


class PredictionsFormatError(PharError):
    """A predictions JSON that phar cannot read."""


class NothingToKeep(PharError):
    """A cut that would keep nothing: there is no video to write."""


class PredictionsMismatch(UsageError):
    """A predictions file given for a video it does not describe."""


class AnnotationError(PharError):
    """An annotation file that cannot be read at all (not JSON, not a VIA export, wrong columns)."""


class EvaluationError(PharError):
    """Predictions and annotations that cannot be scored together (no video in common)."""


class InvalidOption(UsageError):
    """An option the library cannot take, named as the library names it (`subclip_len`); the CLI
    shows its own flag for it (`--subclip-len`). `message` may place the name with "{option}";
    otherwise the message follows the name."""

    def __init__(self, option: str, message: str) -> None:
        self.option = option
        self.template = message if "{option}" in message else "{option} " + message
        super().__init__(self.worded(option))

    def worded(self, name: str) -> str:
        """The message with the option called `name` (a CLI passes its flag)."""
        return self.template.replace("{option}", name)
