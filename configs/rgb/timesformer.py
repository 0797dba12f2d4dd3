# RGB stream: the seed's TimeSformer (divided space-time), mmaction2 1.x syntax.
# Seed settings: 16 frames x interval 12, 224 px, patch 16, 768 dims, dropout 0.2, LN eps 1e-6;
# test: short side 224, ThreeCrop 224, average 'prob'. phar samples and decodes the frames itself
# (from SampleFrames below), then runs the remaining transforms on the frames in memory.
model = dict(
    type='Recognizer3D',
    backbone=dict(
        type='TimeSformer',
        pretrained=None,
        num_frames=16,
        img_size=224,
        patch_size=16,
        embed_dims=768,
        in_channels=3,
        dropout_ratio=0.2,
        transformer_layers=None,
        attention_type='divided_space_time',
        norm_cfg=dict(type='LN', eps=1e-6)),
    cls_head=dict(
        type='TimeSformerHead',
        num_classes=17,
        in_channels=768,
        average_clips='prob'),
    data_preprocessor=dict(
        type='ActionDataPreprocessor',
        mean=[127.5, 127.5, 127.5],
        std=[127.5, 127.5, 127.5],
        format_shape='NCTHW'))

test_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=16, frame_interval=12, num_clips=1, test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 224)),
    dict(type='ThreeCrop', crop_size=224),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs'),
]

# -- training (`phar train rgb DATASET`): the seed's schedule. phar fills in the clip lists of the
# dataset made by `phar prepare-data` (video path + start/end frame per clip: no clip files).
train_pipeline = [
    dict(type='PharClipDecordInit'),
    dict(type='SampleFrames', clip_len=16, frame_interval=12, num_clips=1),
    dict(type='DecordDecode'),
    dict(type='RandomRescale', scale_range=(256, 320)),
    dict(type='RandomCrop', size=224),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs'),
]
val_pipeline = [
    dict(type='PharClipDecordInit'),
    dict(type='SampleFrames', clip_len=16, frame_interval=12, num_clips=1, test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='CenterCrop', crop_size=224),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs'),
]
train_dataloader = dict(
    batch_size=8, num_workers=2, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type='PharClipDataset', ann_file='', pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=8, num_workers=2, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='PharClipDataset', ann_file='', pipeline=val_pipeline, test_mode=True))
val_evaluator = dict(type='AccMetric', metric_list=('top_k_accuracy', 'mean_class_accuracy'),
                     metric_options=dict(top_k_accuracy=dict(topk=(1, 2, 3, 4, 5))))
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=25, val_begin=1, val_interval=1)
val_cfg = dict(type='ValLoop')
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.0015625, momentum=0.9, weight_decay=1e-4, nesterov=True),
    paramwise_cfg=dict(custom_keys={
        '.backbone.cls_token': dict(decay_mult=0.0),
        '.backbone.pos_embed': dict(decay_mult=0.0),
        '.backbone.time_embed': dict(decay_mult=0.0)}),
    clip_grad=dict(max_norm=40, norm_type=2))
param_scheduler = [dict(type='MultiStepLR', begin=0, end=25, by_epoch=True, milestones=[5, 10],
                        gamma=0.1)]
# The seed fine-tuned from OpenMMLab's Kinetics-400 TimeSformer (timesformer_divST_8x32x1_15e_
# kinetics400_rgb-3f8e5d03.pth); pass --load-from to do the same.
load_from = None
