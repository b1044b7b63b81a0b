"""Pulumi config to typed settings: `load.load_settings` reads a stack's config, section by section, into
`settings.StackSettings`."""
