# The seed's Faster R-CNN FPN architecture made small for CPU tests and the offline demo bundle:
# ResNet-50 at a quarter of the width (16 base channels), 64-channel FPN, 128-unit box head,
# 320 px input. Same parameter names as the seed-sized detector.
_base_ = ['faster_rcnn_r50_fpn_2x_coco.py']
model = dict(
    backbone=dict(depth=50, base_channels=16, stem_channels=16),
    neck=dict(in_channels=[64, 128, 256, 512], out_channels=64),
    rpn_head=dict(in_channels=64, feat_channels=64),
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels=64),
        bbox_head=dict(in_channels=64, fc_out_channels=128)),
    test_cfg=dict(rpn=dict(nms_pre=200, max_per_img=100), rcnn=dict(max_per_img=20)))
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(320, 320), keep_ratio=True),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor')),
]
test_dataloader = dict(dataset=dict(type='CocoDataset', test_mode=True, pipeline=test_pipeline))
