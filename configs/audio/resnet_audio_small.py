# The seed's ResNetAudio architecture made small for CPU tests and the offline demo bundle:
# bottleneck depth 50 cut to 3 stages of 8 base channels, 2 test clips. Same features as the seed.
_base_ = ['resnet101_audio.py']
model = dict(backbone=dict(depth=50, num_stages=3, base_channels=8), cls_head=dict(in_channels=128))
test_pipeline = [
    dict(type='LoadAudioFeature'),
    dict(type='SampleFrames', clip_len=64, frame_interval=1, num_clips=2, test_mode=True),
    dict(type='AudioFeatureSelector', fixed_length=128),
    dict(type='FormatAudioShape', input_format='NCTF'),
    dict(type='PackActionInputs'),
]
