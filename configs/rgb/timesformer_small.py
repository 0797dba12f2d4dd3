# The seed's TimeSformer architecture made small for CPU tests and the offline demo bundle:
# 8 frames (x interval 4), 32 px, patch 8, 64 dims, 2 layers of 4 heads, no dropout. Same
# pipeline shape.
_base_ = ['timesformer.py']
model = dict(
    backbone=dict(num_frames=8, img_size=32, patch_size=8, embed_dims=64,
                  num_transformer_layers=2, num_heads=4, dropout_ratio=0.0),
    cls_head=dict(in_channels=64))
# Three clips spread over the window, not one at its centre: a 7 s window at 15 fps is read from
# 96 of its 105 frames (one 2 s clip saw a 2 s cycle from one phase, and a model trained on 54
# clips misread some phases), and a window ending or starting at a change reads what it holds.
test_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=8, frame_interval=4, num_clips=3, test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 32)),
    dict(type='ThreeCrop', crop_size=32),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs'),
]

# -- training: validated every epoch, the best kept, stopped when it no longer improves (under a
# minute on 2 CPU cores)
train_pipeline = [
    dict(type='PharClipDecordInit'),
    dict(type='SampleFrames', clip_len=8, frame_interval=4, num_clips=1),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 36)),
    dict(type='RandomCrop', size=32),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs'),
]
val_pipeline = [
    dict(type='PharClipDecordInit'),
    dict(type='SampleFrames', clip_len=8, frame_interval=4, num_clips=1, test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 32)),
    dict(type='CenterCrop', crop_size=32),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs'),
]
train_dataloader = dict(batch_size=8, num_workers=0, persistent_workers=False,
                        dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(batch_size=16, num_workers=0, persistent_workers=False,
                      dataset=dict(pipeline=val_pipeline))
train_cfg = dict(max_epochs=60, val_interval=1)
# patience from epoch 20: from scratch its validation is noisy near chance until epoch ~20
early_stopping = dict(patience=10, min_epochs=20)
optim_wrapper = dict(optimizer=dict(_delete_=True, type='AdamW', lr=1e-3, weight_decay=1e-4),
                     paramwise_cfg=dict(_delete_=True), clip_grad=dict(max_norm=10, norm_type=2))
# a transformer trained from scratch needs a warm-up
param_scheduler = [dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=3),
                   dict(type='CosineAnnealingLR', T_max=57, eta_min=1e-5, by_epoch=True, begin=3,
                        end=60)]
