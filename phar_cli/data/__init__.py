"""Datasets (layer 5): annotations read and checked (`annotations`), clips planned and split by video
(`clips`), the dataset folder mmaction2 reads (`prepare`, `layout`, `report`) and the measure of an
analysis against its truth (`evaluation`). Imports the layers below it; `train` builds on it."""
