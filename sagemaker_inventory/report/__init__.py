"""`smi report`: streamed aggregation, job views, checks, cost, and their rendering."""
