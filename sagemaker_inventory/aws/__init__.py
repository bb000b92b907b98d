"""The AWS edge: sessions and clients, pacing and retries, and every AWS call smi makes."""
