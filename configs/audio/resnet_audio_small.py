# The seed's ResNetAudio architecture made small for CPU tests and the offline demo bundle:
# bottleneck depth 50 cut to 3 stages of 8 base channels, a strided stem, 2 test clips. Same
# features as the seed.
_base_ = ['resnet101_audio.py']
model = dict(backbone=dict(depth=50, num_stages=3, base_channels=8, conv1_stride=2),
             cls_head=dict(in_channels=128))
test_pipeline = [
    dict(type='LoadAudioFeature'),
    dict(type='SampleFrames', clip_len=64, frame_interval=1, num_clips=2, test_mode=True),
    dict(type='AudioFeatureSelector', fixed_length=128),
    dict(type='FormatAudioShape', input_format='NCTF'),
    dict(type='PackActionInputs'),
]

# -- training: validated every epoch, the best kept, stopped when it no longer improves (under a
# minute on 2 CPU cores)
# Each clip's mel bins moved by up to 2 at random: the dataset's tones (±3 % of their pitch, one
# pitch a video) then stand for all their pitches, not the few dozen drawn (phar_cli/train/datasets.py)
train_pipeline = [
    dict(type='LoadAudioFeature'),
    dict(type='SampleFrames', clip_len=64, frame_interval=1, num_clips=1),
    dict(type='AudioFeatureSelector', fixed_length=128),
    dict(type='PharPitchShift', max_bins=2),
    dict(type='FormatAudioShape', input_format='NCTF'),
    dict(type='PackActionInputs'),
]
train_dataloader = dict(batch_size=8, num_workers=0, persistent_workers=False,
                        dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(batch_size=16, num_workers=0, persistent_workers=False)
train_cfg = dict(max_epochs=60, val_interval=1)
# patience from epoch 30: on the main job's dataset it sits at chance until epoch ~20
early_stopping = dict(patience=10, min_epochs=30)
optim_wrapper = dict(optimizer=dict(_delete_=True, type='AdamW', lr=2e-3, weight_decay=1e-4),
                     clip_grad=dict(max_norm=10, norm_type=2))
param_scheduler = [dict(type='CosineAnnealingLR', T_max=60, eta_min=1e-5, by_epoch=True)]
