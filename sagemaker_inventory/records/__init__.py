"""Pure record code: one DescribeTrainingJob response -> one record, its schema, redaction."""
