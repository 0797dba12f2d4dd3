# Skeleton front end "rtmo-s": mmpose's one-stage RTMO-s, COCO 17 keypoints, input 640x640, the
# config mmpose 1.3.2 ships (test pipeline: BottomupResize to 640x640 padded with 114, BGR 0-255;
# test_cfg score_thr 0.1, nms_thr 0.65). Referenced, not copied: phar only names it.
_base_ = ['mmpose::body_2d_keypoint/rtmo/coco/rtmo-s_8xb32-600e_coco-640x640.py']
