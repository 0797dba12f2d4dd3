"""Models (layer 2): the only production layer besides `train/` that imports OpenMMLab (mmaction2,
mmdet, mmpose, mmengine, mmcv). Model files and where they are found (`registry`, `bundle`,
`download`, `checkpoint`), the recognizers, the person detector and pose front ends, devices and
arithmetic. Imports the base layer and `media`."""
