"""The synthetic world phar's tests, benchmarks and demo bundle are made of: abstract moving shapes
and tones (`video`), a stick figure drawn with coloured joints (`figure`), the pose backend that
reads those joints back (`marker_poses`, loaded only when `--pose-model markers` asks for it) and
datasets of known parts (`dataset`). No production path imports it unless a user asks for it."""
