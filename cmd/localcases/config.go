package main

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"
	"gopkg.in/yaml.v3"
)

// envPrefix namespaces the environment variables: --addr reads
// LOCALCASES_ADDR, --log-level LOCALCASES_LOG_LEVEL.
const envPrefix = "LOCALCASES_"

func envName(flag string) string {
	return envPrefix + strings.ToUpper(strings.NewReplacer("-", "_", ".", "_").Replace(flag))
}

// applyEnv sets every flag the command line left alone from its
// environment variable, so flags win over the environment, which wins over
// the config file, which wins over the defaults.
func applyEnv(fs *pflag.FlagSet, getenv func(string) string) error {
	var err error
	fs.VisitAll(func(f *pflag.Flag) {
		if err != nil || f.Changed {
			return
		}
		if v := getenv(envName(f.Name)); v != "" {
			if e := fs.Set(f.Name, v); e != nil {
				err = fmt.Errorf("%s=%q: %w", envName(f.Name), v, e)
			}
		}
	})
	return err
}

// loadConfigFile reads a YAML or JSON file into dst; unknown keys are an
// error so a typo does not silently keep a default.
func loadConfigFile(path string, dst any) error {
	data, err := os.ReadFile(os.ExpandEnv(path))
	if err != nil {
		return err
	}
	data = []byte(os.ExpandEnv(string(data)))
	if strings.EqualFold(filepath.Ext(path), ".json") {
		dec := json.NewDecoder(strings.NewReader(string(data)))
		dec.DisallowUnknownFields()
		return dec.Decode(dst)
	}
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true)
	if err := dec.Decode(dst); err != nil && err.Error() != "EOF" {
		return err
	}
	return nil
}

// loadConfigFileLoose reads only the keys dst knows, for reloading one
// section of a file that holds others too.
func loadConfigFileLoose(path string, dst any) error {
	data, err := os.ReadFile(os.ExpandEnv(path))
	if err != nil {
		return err
	}
	data = []byte(os.ExpandEnv(string(data)))
	if strings.EqualFold(filepath.Ext(path), ".json") {
		return json.Unmarshal(data, dst)
	}
	return yaml.Unmarshal(data, dst)
}

// newLogger builds the process logger: text or JSON on w, at a level.
func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("log format %q: want text or json", format)
}
