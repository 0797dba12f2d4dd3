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
