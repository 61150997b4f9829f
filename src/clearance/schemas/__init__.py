"""JSON Schemas (draft 2020-12) of the files clearance reads: findings and safeguards."""
