// Added by offline/toolchain/build.sh to a writable copy of Pulumi's fork of
// terraform-plugin-sdk/v2 (the served fork predates terraform-plugin-go v0.31, which
// the upstream docker provider requires and whose tfprotov5.ProviderServer gained
// this method). The bridge never calls it; Terraform's config generation is not used.

package schema

import (
	"context"

	"github.com/hashicorp/terraform-plugin-go/tfprotov5"
)

func (s *GRPCProviderServer) GenerateResourceConfig(_ context.Context, _ *tfprotov5.GenerateResourceConfigRequest) (*tfprotov5.GenerateResourceConfigResponse, error) {
	return &tfprotov5.GenerateResourceConfigResponse{
		Diagnostics: []*tfprotov5.Diagnostic{{
			Severity: tfprotov5.DiagnosticSeverityError,
			Summary:  "GenerateResourceConfig is not supported by this SDK build",
		}},
	}, nil
}
