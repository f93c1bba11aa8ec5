"""Run the real program without the Pulumi CLI or AWS: the mock runtime, the plan and its cost."""
