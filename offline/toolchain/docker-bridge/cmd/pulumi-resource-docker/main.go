// pulumi-resource-docker: the stand-in plugin. schema.json is written beside this
// file by docker-schemagen before the build (build.sh does both).
package main

import (
	_ "embed"

	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"

	dockerbridge "monitoring.local/docker-bridge"
)

//go:embed schema.json
var schema []byte

func main() {
	tfbridge.Main("docker", dockerbridge.Version, dockerbridge.Provider(), schema)
}
