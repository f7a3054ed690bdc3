package config_test

import (
	"bytes"
	"errors"
	"flag"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"yiwang/internal/config"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestPrecedenceFlagOverEnvOverDefault(t *testing.T) {
	c, _, err := config.Parse(flag.NewFlagSet("serve", flag.ContinueOnError), "serve", "", []string{"--addr", ":9000"}, 0,
		env(map[string]string{"YIWANG_ADDR": ":7000", "YIWANG_LOG_LEVEL": "debug", "YIWANG_NO_DEMO": "true"}), nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != ":9000" || c.LogLevel != slog.LevelDebug || !c.NoDemo || c.DataDir != "./yiwang-data" || c.ShutdownTimeout != 30*time.Second {
		t.Errorf("config = %+v", c)
	}
	c, _, _ = config.Parse(flag.NewFlagSet("serve", flag.ContinueOnError), "serve", "", []string{"--no-demo"}, 0, env(nil), nil)
	if !c.NoDemo || c.Demo {
		t.Error("--no-demo left demo on")
	}
	c, _, _ = config.Parse(flag.NewFlagSet("serve", flag.ContinueOnError), "serve", "", []string{"--demo"}, 0, env(nil), nil)
	if !c.Demo || c.NoDemo {
		t.Error("--demo did not ask for demo data")
	}
	c, _, _ = config.Parse(flag.NewFlagSet("serve", flag.ContinueOnError), "serve", "", nil, 0, env(map[string]string{"YIWANG_METRICS_ADDR": "127.0.0.1:9090"}), nil)
	if c.MetricsAddr != "127.0.0.1:9090" {
		t.Errorf("YIWANG_METRICS_ADDR gave --metrics-addr %q", c.MetricsAddr)
	}
	c, _, _ = config.Parse(flag.NewFlagSet("serve", flag.ContinueOnError), "serve", "", nil, 0, env(nil), nil)
	if c.Demo || c.NoDemo || c.Addr != ":8080" || c.MetricsAddr != "" {
		t.Errorf("defaults = %+v", c)
	}
}

func TestBadInputSaysWhatToDo(t *testing.T) {
	tests := []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"--bogus"}, nil, "unknown flag --bogus; run 'yiwang serve --help'"},
		{[]string{"--log-format", "xml"}, nil, "must be text or json"},
		{[]string{"--shutdown-timeout", "-1s"}, nil, "positive duration"},
		{nil, map[string]string{"YIWANG_LOG_LEVEL": "loud"}, `YIWANG_LOG_LEVEL="loud"`},
		{[]string{"stray"}, nil, `unexpected argument "stray"`},
		{[]string{"--upload-max-bytes", "20MB"}, nil, "must be a size such as 20MiB"},
		{[]string{"--upload-max-bytes", "0"}, nil, "must be a size such as 20MiB"},
	}
	for _, tt := range tests {
		_, _, err := config.Parse(flag.NewFlagSet("serve", flag.ContinueOnError), "serve", "", tt.args, 0, env(tt.env), nil)
		if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("Parse(%v, %v) error = %v, want one line containing %q", tt.args, tt.env, err, tt.want)
		}
	}
}

func TestUploadLimitSizes(t *testing.T) {
	for in, want := range map[string]int64{"": 20 << 20, "1048576": 1 << 20, "512KiB": 512 << 10, "5 MiB": 5 << 20, "1GiB": 1 << 30} {
		args := []string{}
		if in != "" {
			args = []string{"--upload-max-bytes", in}
		}
		c, _, err := config.Parse(flag.NewFlagSet("serve", flag.ContinueOnError), "serve", "", args, 0, env(nil), nil)
		if err != nil || c.UploadMaxBytes != want {
			t.Errorf("--upload-max-bytes %q = %d, %v; want %d", in, c.UploadMaxBytes, err, want)
		}
	}
}

func TestHelpListsEveryOptionOfTheCommand(t *testing.T) {
	var out bytes.Buffer
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.Bool("status", false, "list migrations")
	_, _, err := config.Parse(fs, "migrate", "Applies migrations.", []string{"--help"}, 0, env(nil), &out)
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("err = %v", err)
	}
	for _, want := range []string{"Usage: yiwang migrate", "--status", "--db", "YIWANG_DB", "--data-dir"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("help lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "--addr") {
		t.Error("migrate help lists serve's --addr")
	}
}

// TestREADMEDocumentsEveryOption keeps the README's configuration table true.
func TestREADMEDocumentsEveryOption(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range config.Options() {
		row := "| `--" + o.Flag + "` | `" + o.Env + "` |"
		if !strings.Contains(string(readme), row) {
			t.Errorf("README's configuration table lacks the row for --%s (%s)", o.Flag, o.Env)
		}
	}
}
