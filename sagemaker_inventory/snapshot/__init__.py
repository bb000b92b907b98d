"""`smi collect --snapshot`: reuse unchanged records, merge by scope, lock, --changes."""
