"""Lets `python -m sagemaker_inventory` behave exactly like the `smi` console script."""

from sagemaker_inventory.cli import main

main()
