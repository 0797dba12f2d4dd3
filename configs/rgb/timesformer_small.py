# The seed's TimeSformer architecture made small for CPU tests and the offline demo bundle:
# 4 frames, 32 px, patch 8, 64 dims, 2 layers of 4 heads. Same classes, same pipeline shape.
_base_ = ['timesformer.py']
model = dict(
    backbone=dict(num_frames=4, img_size=32, patch_size=8, embed_dims=64,
                  num_transformer_layers=2, num_heads=4),
    cls_head=dict(in_channels=64))
test_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=4, frame_interval=8, num_clips=1, test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 32)),
    dict(type='ThreeCrop', crop_size=32),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs'),
]
