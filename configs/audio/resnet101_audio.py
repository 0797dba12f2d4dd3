# Audio stream: the seed's ResNetAudio-101 on log-mel features, mmaction2 1.x.
# Features: 16 kHz mono, fft 512, hop 256, 80 mels 125-7600 Hz (~62.5 frames/s), see
# `audio_features` below: phar computes them in memory with exactly these numbers.
# Clips: SampleFrames 64, AudioFeatureSelector fixed_length 128 (zero-padded), 10 test clips.
audio_features = dict(sample_rate=16000, fft_size=512, hop_size=256, n_mels=80, fmin=125, fmax=7600)
model = dict(
    type='RecognizerAudio',
    backbone=dict(type='ResNetAudio', depth=101, pretrained=None, in_channels=1, norm_eval=False),
    cls_head=dict(
        type='TSNAudioHead',
        num_classes=4,
        in_channels=1024,
        dropout_ratio=0.5,
        init_std=0.01,
        average_clips='prob'))

test_pipeline = [
    dict(type='LoadAudioFeature'),
    dict(type='SampleFrames', clip_len=64, frame_interval=1, num_clips=10, test_mode=True),
    dict(type='AudioFeatureSelector', fixed_length=128),
    dict(type='FormatAudioShape', input_format='NCTF'),
    dict(type='PackActionInputs'),
]

# -- training (`phar train audio DATASET`): the seed's schedule on the log-mel features that
# `phar prepare-data` writes (one .npy per clip, the quietest 20% pruned).
train_pipeline = [
    dict(type='LoadAudioFeature'),
    dict(type='SampleFrames', clip_len=64, frame_interval=1, num_clips=1),
    dict(type='AudioFeatureSelector', fixed_length=128),
    dict(type='FormatAudioShape', input_format='NCTF'),
    dict(type='PackActionInputs'),
]
val_pipeline = [
    dict(type='LoadAudioFeature'),
    dict(type='SampleFrames', clip_len=64, frame_interval=1, num_clips=1, test_mode=True),
    dict(type='AudioFeatureSelector', fixed_length=128),
    dict(type='FormatAudioShape', input_format='NCTF'),
    dict(type='PackActionInputs'),
]
train_dataloader = dict(
    batch_size=16, num_workers=2, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type='AudioDataset', ann_file='', data_prefix=dict(audio=''),
                 pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=16, num_workers=2, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='AudioDataset', ann_file='', data_prefix=dict(audio=''),
                 pipeline=val_pipeline, test_mode=True))
val_evaluator = dict(type='AccMetric', metric_list=('top_k_accuracy', 'mean_class_accuracy'),
                     metric_options=dict(top_k_accuracy=dict(topk=(1, 2, 3, 4, 5))))
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=240, val_begin=1, val_interval=5)
val_cfg = dict(type='ValLoop')
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.025, momentum=0.9, weight_decay=0.0001),
                     clip_grad=dict(max_norm=40, norm_type=2))
param_scheduler = [dict(type='CosineAnnealingLR', eta_min=0, T_max=240, by_epoch=True)]
load_from = None
