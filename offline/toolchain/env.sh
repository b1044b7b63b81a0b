# shellcheck shell=bash
# Source this file (do not run it): puts the toolchain built by build.sh on PATH
# and keeps the Pulumi CLI offline. No `set -e` here: it would leak into the caller.

TOOLCHAIN_DIR="${MONITORING_TOOLCHAIN_DIR:-$HOME/.cache/monitoring-toolchain}"
export TOOLCHAIN_DIR

# bin/ holds pulumi, pulumi-language-python and pulumi-language-python-exec side by side:
# the CLI finds the language host beside itself. Prepend only once.
case ":$PATH:" in
  *":$TOOLCHAIN_DIR/bin:"*) ;;
  *) export PATH="$TOOLCHAIN_DIR/bin:$PATH" ;;
esac

# Plugins are installed here by build.sh; nothing goes to ~/.pulumi.
export PULUMI_HOME="$TOOLCHAIN_DIR/pulumi-home"
# Only registries are reachable: no update checks, no plugin downloads,
# and no stray pulumi-resource-* from PATH shadowing the pinned plugins.
export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
export PULUMI_IGNORE_AMBIENT_PLUGINS=true
