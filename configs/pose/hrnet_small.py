# The seed's HRNet top-down architecture made small for CPU tests and the offline demo bundle:
# one module per stage, 8/16/32/64 channels, 128x96 input (a multiple of 32), no flip test.
_base_ = ['hrnet_w32_coco_256x192.py']
codec = dict(type='MSRAHeatmap', input_size=(96, 128), heatmap_size=(24, 32), sigma=2)
model = dict(
    backbone=dict(
        extra=dict(
            stage1=dict(num_blocks=(1, ), num_channels=(8, )),
            stage2=dict(num_blocks=(1, 1), num_channels=(8, 16)),
            stage3=dict(num_modules=1, num_blocks=(1, 1, 1), num_channels=(8, 16, 32)),
            stage4=dict(num_modules=1, num_blocks=(1, 1, 1, 1), num_channels=(8, 16, 32, 64)))),
    head=dict(in_channels=8, decoder=codec),
    test_cfg=dict(flip_test=False))
test_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='TopdownAffine', input_size=codec['input_size']),
    dict(type='PackPoseInputs'),
]
test_dataloader = dict(
    dataset=dict(type='CocoDataset', data_mode='topdown', test_mode=True, pipeline=test_pipeline))
