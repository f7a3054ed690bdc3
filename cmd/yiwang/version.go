package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

func version(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		if args[0] == "--help" || args[0] == "-h" {
			fmt.Fprintln(stdout, "Usage: yiwang version\n\nPrint the version of this binary: module version, VCS revision and Go version.")
			return nil
		}
		return usageError{fmt.Errorf("version takes no arguments")}
	}
	fmt.Fprintln(stdout, versionString())
	return nil
}

// versionString describes this build from the information Go embeds in it.
func versionString() string {
	v, rev, dirty := "(devel)", "", ""
	if info, ok := debug.ReadBuildInfo(); ok {
		if info.Main.Version != "" {
			v = info.Main.Version
		}
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				if s.Value == "true" {
					dirty = "+dirty"
				}
			}
		}
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	out := "yiwang " + v
	if rev != "" {
		out += " (" + rev + dirty + ")"
	}
	return out + " " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH
}
