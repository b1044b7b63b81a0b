package main

import (
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"syscall"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"github.com/pulumi/pulumi/sdk/v3/python"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
)

// pluginInfo is the part of pulumirpc.ProgramInfo (root_directory = 1, program_directory = 2,
// options = 4) that RunPlugin needs.
type pluginInfo struct {
	root, program string
	options       structpb.Struct
}

// runPluginInfo decodes RunPluginRequest.info (field 5) from the fields this proto does not know.
func runPluginInfo(req *pulumirpc.RunPluginRequest) (*pluginInfo, error) {
	var raw []byte
	b := []byte(req.ProtoReflect().GetUnknown())
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil, protowire.ParseError(n)
		}
		b = b[n:]
		if num == 5 && typ == protowire.BytesType {
			v, m := protowire.ConsumeBytes(b)
			if m < 0 {
				return nil, protowire.ParseError(m)
			}
			raw = v
		}
		if n = protowire.ConsumeFieldValue(num, typ, b); n < 0 {
			return nil, protowire.ParseError(n)
		}
		b = b[n:]
	}
	if raw == nil {
		return nil, nil
	}
	info := &pluginInfo{}
	for len(raw) > 0 {
		num, typ, n := protowire.ConsumeTag(raw)
		if n < 0 {
			return nil, protowire.ParseError(n)
		}
		raw = raw[n:]
		if typ == protowire.BytesType && (num == 1 || num == 2 || num == 4) {
			v, m := protowire.ConsumeBytes(raw)
			if m < 0 {
				return nil, protowire.ParseError(m)
			}
			switch num {
			case 1:
				info.root = string(v)
			case 2:
				info.program = string(v)
			case 4:
				if err := proto.Unmarshal(v, &info.options); err != nil {
					return nil, err
				}
			}
		}
		if n = protowire.ConsumeFieldValue(num, typ, raw); n < 0 {
			return nil, protowire.ParseError(n)
		}
		raw = raw[n:]
	}
	return info, nil
}

// runPluginFromInfo is RunPlugin for such a request: `python <program directory> <args>`.
func runPluginFromInfo(
	info *pluginInfo, req *pulumirpc.RunPluginRequest, server pulumirpc.LanguageRuntime_RunPluginServer,
) error {
	args := append([]string{info.program}, req.Args...)
	var cmd *exec.Cmd
	virtualenv := ""
	if v := info.options.GetFields()["virtualenv"].GetStringValue(); v != "" {
		virtualenv = v
		if !filepath.IsAbs(virtualenv) {
			virtualenv = filepath.Join(info.root, virtualenv)
		}
		if !python.IsVirtualEnv(virtualenv) {
			return python.NewVirtualEnvError(v, virtualenv)
		}
		cmd = python.VirtualEnvCommand(virtualenv, "python", args...)
	} else {
		var err error
		if cmd, err = python.Command(server.Context(), args...); err != nil {
			return err
		}
	}

	closer, stdout, stderr, err := rpcutil.MakeRunPluginStreams(server, false)
	if err != nil {
		return err
	}
	defer closer.Close()

	cmd.Dir = req.Pwd
	cmd.Env = req.Env
	if virtualenv != "" {
		cmd.Env = python.ActivateVirtualEnv(cmd.Env, virtualenv)
	}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err = cmd.Run(); err != nil {
		var exiterr *exec.ExitError
		if errors.As(err, &exiterr) {
			if status, ok := exiterr.Sys().(syscall.WaitStatus); ok {
				return server.Send(&pulumirpc.RunPluginResponse{
					Output: &pulumirpc.RunPluginResponse_Exitcode{Exitcode: int32(status.ExitStatus())},
				})
			}
			return fmt.Errorf("program exited unexpectedly: %w", exiterr)
		}
		return fmt.Errorf("problem executing plugin program (could not run language executor): %w", err)
	}
	return closer.Close()
}
