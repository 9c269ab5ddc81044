"""Networks by name: one file each in this folder, registered in NETWORKS (nn/base.py)."""
