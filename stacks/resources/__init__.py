"""The only code that registers Pulumi resources: the stack on Docker (docker_stack.py) or on Kubernetes
(kubernetes_stack.py), and their components. Everything they register is described first by the pure code beside
them (stacks/render/), from the settings (stacks/config/settings.py) and the content (stacks/content/). Two modules that
register resources stay outside, for the reasons their docstrings give: stacks/reload.py, whose module path is in
every deployed stack's state, and stacks/grafana_content.py."""
