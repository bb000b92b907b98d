"""`smi schema`: the record shape as a JSON Schema, from the single copy of the shape we ship."""

from __future__ import annotations

import json

import click


@click.command()
@click.option("--all-fields", is_flag=True, help="Schema for records collected with --all-fields.")
def schema(all_fields: bool) -> None:
    """Print the JSON Schema (draft 2020-12) that every `smi collect` record validates against.

    The schema is for one record: `-f json` writes an array of them, which the
    second example validates with the schema wrapped as the array's items.

    \b
    Examples:
      smi schema > trainingjob.schema.json
      smi schema | jq '{type: "array", items: del(.["$schema"])}' > inventory.schema.json
      smi collect --demo -f json > inventory.json
      check-jsonschema --schemafile inventory.schema.json inventory.json
    """
    from sagemaker_inventory.schema import record_schema

    click.echo(json.dumps(record_schema(all_fields=all_fields), indent=2))
