"""The monitoring stack: settings, content, pure renderers and Pulumi components."""
