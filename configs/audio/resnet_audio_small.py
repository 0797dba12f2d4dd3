# The seed's ResNetAudio architecture made small (depth 18 stem/stages, fewer clips) for CPU tests
# and the offline demo bundle. Same features as the seed.
_base_ = ['resnet101_audio.py']
model = dict(backbone=dict(depth=18), cls_head=dict(in_channels=256))
test_pipeline = [
    dict(type='LoadAudioFeature'),
    dict(type='SampleFrames', clip_len=64, frame_interval=1, num_clips=2, test_mode=True),
    dict(type='AudioFeatureSelector', fixed_length=128),
    dict(type='FormatAudioShape', input_format='NCTF'),
    dict(type='PackActionInputs'),
]
