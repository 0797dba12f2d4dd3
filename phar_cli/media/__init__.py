"""Media (layer 1): everything that reads or writes audio and video: probing, frame decoding,
audio features and loudness, shot cuts, VR layouts, ffmpeg (its one owner) and the writers of
demo and cut videos. Knows nothing of models or labels; imports only the base layer."""
