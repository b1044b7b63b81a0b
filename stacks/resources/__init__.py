"""The only code that registers Pulumi resources: the stack on Docker (docker_stack.py) or on Kubernetes
(kubernetes_stack.py), and their components. Everything they register is described first by the pure code beside
them (stacks/render/), from the settings (stacks/config/settings.py) and the content (stacks/content/model.py). One
module that registers resources stays outside: stacks/reload.py, whose module path is in every deployed stack's
state."""
