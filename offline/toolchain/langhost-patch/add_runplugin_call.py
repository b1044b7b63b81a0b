"""Adds one call at the top of the v3.79 language host's RunPlugin: runPluginInfo (runplugin_info.go beside
this file) handles the request the newer CLI sends. The anchor must be there exactly once.

    python3 add_runplugin_call.py <host dir>/main.go
"""

import sys

path = sys.argv[1]
src = open(path).read()
anchor = '\tlogging.V(5).Infof("Attempting to run python plugin in %s", req.Program)\n'
call = (
    "\tif info, err := runPluginInfo(req); err != nil {\n\t\treturn err\n"
    '\t} else if info != nil && req.Program == "" {\n\t\treturn runPluginFromInfo(info, req, server)\n\t}\n'
)
if src.count(anchor) != 1:
    sys.exit(f"{path}: RunPlugin anchor found {src.count(anchor)} times, expected 1")
open(path, "w").write(src.replace(anchor, anchor + call))
