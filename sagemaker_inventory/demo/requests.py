"""The CreateTrainingJob request of one planned demo job (`demo.jobs`): what a team would send,
image, channels, resources, stopping condition, debugger settings and tags included."""

from __future__ import annotations

from typing import Any

from sagemaker_inventory.demo.jobs import (
    DEMO_TAG,
    METRICS,
    JobPlan,
    Recipe,
    bucket_name,
)

_HETEROGENEOUS_PROJECT = "recsys-two-tower"  # its jobs use ResourceConfig.InstanceGroups
_IMAGES = {  # image path and registry account per region (AWS publishes one account per region)
    "xgboost": (
        "sagemaker-xgboost:1.7-1",
        {"us-east-1": "683313688378", "eu-west-1": "141502667606"},
    ),
    "pytorch": ("pytorch-training:2.3.0-gpu-py311-cu121-ubuntu20.04-sagemaker", {}),
    "huggingface": (
        "huggingface-pytorch-training:2.1.0-transformers4.36.0-gpu-py310-cu121-ubuntu20.04",
        {},
    ),
}
_DLC_ACCOUNT = "763104351884"  # the deep learning containers' registry in most regions
_RULES_IMAGE = "sagemaker-debugger-rules:latest"
_RULES_ACCOUNTS = {"us-east-1": "503895931360", "eu-west-1": "929884845733"}


def build_request(plan: JobPlan, region: str, account: str) -> dict[str, Any]:
    """The CreateTrainingJob parameters a team would send for this job."""
    recipe, bucket = plan.recipe, f"s3://{bucket_name(plan.recipe, region)}"
    request: dict[str, Any] = {
        "TrainingJobName": plan.name,
        "AlgorithmSpecification": {
            "TrainingImage": _image(recipe.family, region),
            "TrainingInputMode": "File",
            "MetricDefinitions": build_metric_definitions(recipe.family),
            "EnableSageMakerMetricsTimeSeries": recipe.family != "xgboost",
        },
        "RoleArn": f"arn:aws:iam::{account}:role/sagemaker-{recipe.team}-training",
        "HyperParameters": plan.hyper_parameters,
        "InputDataConfig": [
            _channel(f"{bucket}/data/{recipe.project}", name)
            for name in (("train", "validation") if recipe.family == "xgboost" else ("train",))
        ],
        "OutputDataConfig": {"S3OutputPath": f"{bucket}/models/{recipe.project}"},
        "ResourceConfig": _resource_config(plan, region, account),
        "StoppingCondition": {"MaxRuntimeInSeconds": plan.max_runtime or recipe.max_runtime},
        "EnableManagedSpotTraining": plan.spot,
        "Environment": build_environment(recipe),
        "Tags": [{"Key": key, "Value": value} for key, value in (*plan.tags, DEMO_TAG)],
    }
    if plan.spot:
        request["StoppingCondition"]["MaxWaitTimeInSeconds"] = 2 * (
            plan.max_runtime or recipe.max_runtime
        )
    if plan.spot or recipe.family != "xgboost":
        request["CheckpointConfig"] = {
            "S3Uri": f"{bucket}/checkpoints/{plan.name}",
            "LocalPath": "/opt/ml/checkpoints",
        }
    if plan.vpc:
        request["VpcConfig"] = {
            "SecurityGroupIds": ["sg-0c1a5e3f9b2d47a60"],
            "Subnets": ["subnet-0a1b2c3d4e5f60789", "subnet-0f9e8d7c6b5a40321"],
        }
    if recipe.family == "pytorch":
        request["DebugHookConfig"] = _debug_hook(f"{bucket}/debug/{plan.name}")
        request["DebugRuleConfigurations"] = [_debug_rule(region)]
    return request


def _image(family: str, region: str) -> str:
    path, accounts = _IMAGES[family]
    registry = accounts.get(region, accounts.get("us-east-1", _DLC_ACCOUNT))
    return f"{registry}.dkr.ecr.{region}.amazonaws.com/{path}"


def build_metric_definitions(family: str) -> list[dict[str, str]]:
    return [{"Name": name, "Regex": regex} for name, regex, _, _ in METRICS[family]]


def _channel(prefix: str, name: str) -> dict[str, Any]:
    source = {
        "S3DataType": "S3Prefix",
        "S3Uri": f"{prefix}/{name}/",
        "S3DataDistributionType": "FullyReplicated",
    }
    return {
        "ChannelName": name,
        "DataSource": {"S3DataSource": source},
        "ContentType": "text/csv",
        "CompressionType": "None",
    }


def _resource_config(plan: JobPlan, region: str, account: str) -> dict[str, Any]:
    config: dict[str, Any] = {"VolumeSizeInGB": 50 if plan.recipe.family == "xgboost" else 200}
    if plan.recipe.project == _HETEROGENEOUS_PROJECT:
        config["InstanceGroups"] = [
            {
                "InstanceType": plan.recipe.instance_type,
                "InstanceCount": plan.instance_count,
                "InstanceGroupName": "trainers",
            },
            {
                "InstanceType": "ml.c5.9xlarge",
                "InstanceCount": 2,
                "InstanceGroupName": "data-loaders",
            },
        ]
    else:
        config["InstanceType"] = plan.recipe.instance_type
        config["InstanceCount"] = plan.instance_count
    if plan.vpc:
        config["VolumeKmsKeyId"] = (
            f"arn:aws:kms:{region}:{account}:alias/sagemaker-{plan.recipe.team}"
        )
    return config


def build_environment(recipe: Recipe) -> dict[str, str]:
    if recipe.family == "xgboost":
        return {}
    if recipe.family == "pytorch":
        return {"NCCL_DEBUG": "WARN", "PYTHONUNBUFFERED": "1"}
    return {
        "TOKENIZERS_PARALLELISM": "false",
        "HF_HUB_ENABLE_HF_TRANSFER": "1",
        "WANDB_PROJECT": recipe.project,
    }


def _debug_hook(s3_output_path: str) -> dict[str, Any]:
    # smdebug's parameter keys contain dots: map keys to keep verbatim.
    return {
        "S3OutputPath": s3_output_path,
        "LocalPath": "/opt/ml/output/tensors",
        "HookParameters": {"save_interval": "500"},
        "CollectionConfigurations": [
            {"CollectionName": "losses", "CollectionParameters": {"train.save_interval": "50"}},
            {
                "CollectionName": "gradients",
                "CollectionParameters": {"save_interval": "500", "include_regex": ".*conv.*"},
            },
        ],
    }


def _debug_rule(region: str) -> dict[str, Any]:
    registry = _RULES_ACCOUNTS.get(region, _RULES_ACCOUNTS["us-east-1"])
    return {
        "RuleConfigurationName": "LossNotDecreasing",
        "RuleEvaluatorImage": f"{registry}.dkr.ecr.{region}.amazonaws.com/{_RULES_IMAGE}",
        "RuleParameters": {"rule_to_invoke": "LossNotDecreasing", "num_steps": "10"},
    }
