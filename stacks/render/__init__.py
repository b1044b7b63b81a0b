"""Pure renderers: typed settings and content in, configuration text out. No Pulumi imports here."""
