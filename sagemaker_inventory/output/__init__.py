"""Where records go: streamed sinks (jsonl, json, csv), the table, columns, atomic files."""
