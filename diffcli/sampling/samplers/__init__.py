"""One file per sampler, each registering itself in SAMPLERS (sampling/registry.py)."""
