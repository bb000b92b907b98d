"""The embedded demo: moto's in-process AWS seeded with realistic training jobs."""
