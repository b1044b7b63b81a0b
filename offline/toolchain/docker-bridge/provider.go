// Package dockerbridge is a stand-in for the pulumi-docker provider plugin: the
// Terraform bridge wrapped around the upstream Terraform docker provider (its SDKv2
// part), with the tokens and property names that the pip SDK pulumi_docker sends.
// The official plugin cannot be built here (its Go module is not served); this one
// covers the bridged resources only, not pulumi-docker's native docker.Image.
package dockerbridge

import (
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"
	shimv2 "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfshim/sdk-v2"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
	"github.com/terraform-providers/terraform-provider-docker/shim"
)

// Version is set at link time: -X .../docker-bridge.Version=5.1.0
var Version = "5.1.0"

// res builds docker:index/<camel>:<Name>, the token form the SDK uses.
func res(name string) tokens.Type {
	return tokens.Type("docker:index/" + lowerFirst(name) + ":" + name)
}

// fn builds docker:index/<fn>:<fn> for data sources (invokes).
func fn(name string) tokens.ModuleMember {
	return tokens.ModuleMember("docker:index/" + name + ":" + name)
}

func lowerFirst(s string) string {
	if s == "" || s[0] < 'A' || s[0] > 'Z' {
		return s
	}
	return string(s[0]+('a'-'A')) + s[1:]
}

// Provider is the bridge mapping.
func Provider() tfbridge.ProviderInfo {
	prov := tfbridge.ProviderInfo{
		P:           shimv2.NewProvider(shim.NewProvider()),
		Name:        "docker",
		Version:     Version,
		Description: "Stand-in pulumi-docker provider (Terraform bridge over kreuzwerker/docker)",
		License:     "Apache-2.0",
		Repository:  "https://github.com/pulumi/pulumi-docker",
		GitHubOrg:   "kreuzwerker",
		Config: map[string]*tfbridge.SchemaInfo{
			"host": {
				Default: &tfbridge.DefaultInfo{
					Value:   "unix:///var/run/docker.sock",
					EnvVars: []string{"DOCKER_HOST"},
				},
			},
			// A list of blocks, but the SDK names it in the singular.
			"registry_auth": {Name: "registryAuth", MaxItemsOne: tfbridge.False()},
		},
		Resources: map[string]*tfbridge.ResourceInfo{
			"docker_container": {
				Tok: res("Container"),
				// As pulumi-docker: a container name is unique, so replace = delete first.
				DeleteBeforeReplace: true,
				Fields: map[string]*tfbridge.SchemaInfo{
					// One command line, not several commands: no plural.
					"command": {Name: "command"},
					// Several networks, but the SDK keeps the TF name.
					"networks_advanced": {Name: "networksAdvanced"},
				},
			},
			"docker_image": {
				Tok:    res("RemoteImage"),
				Fields: map[string]*tfbridge.SchemaInfo{"name": {Name: "name"}},
			},
			"docker_registry_image": {Tok: res("RegistryImage")},
			"docker_network":        {Tok: res("Network")},
			"docker_volume":         {Tok: res("Volume")},
			"docker_config":         {Tok: res("ServiceConfig")},
			"docker_secret":         {Tok: res("Secret")},
			"docker_service":        {Tok: res("Service")},
			"docker_plugin":         {Tok: res("Plugin")},
			"docker_tag":            {Tok: res("Tag")},
			"docker_buildx_builder": {Tok: res("BuildxBuilder")},
		},
		DataSources: map[string]*tfbridge.DataSourceInfo{
			"docker_network":                  {Tok: fn("getNetwork")},
			"docker_registry_image":           {Tok: fn("getRegistryImage")},
			"docker_plugin":                   {Tok: fn("getPlugin")},
			"docker_image":                    {Tok: fn("getRemoteImage")},
			"docker_logs":                     {Tok: fn("getLogs")},
			"docker_registry_image_manifests": {Tok: fn("getRegistryImageManifests")},
		},
	}
	return prov
}
