"""smi: an exact inventory of SageMaker training jobs, in the aws_sagemaker_trainingjob shape."""

__version__ = "0.1.0"
