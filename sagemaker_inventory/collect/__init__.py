"""`smi collect`'s run: the scopes (accounts x regions), running them, and the run's summary."""
