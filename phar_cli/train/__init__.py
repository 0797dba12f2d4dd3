"""Training through mmengine's Runner (the only place besides models/ that imports OpenMMLab)."""
